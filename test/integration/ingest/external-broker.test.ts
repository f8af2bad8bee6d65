import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countPoints, eventually, queryRows, startTestApp, type TestApp } from '../../helpers/app.ts';
import { mosquittoPub } from '../../helpers/mqtt.ts';
import { startMosquitto, type Mosquitto } from '../../../bench/mosquitto-process.ts';

describe('external broker mode over Debian Mosquitto', () => {
  let mosquitto: Mosquitto | undefined;
  let t: TestApp | undefined;
  const cleanup: Array<() => void> = [];
  afterAll(async () => {
    await t?.stop();
    await mosquitto?.stop();
    for (const c of cleanup) c();
  });

  const pub = (port: number, from: number, to: number, base: number) =>
    Promise.all(Array.from({ length: to - from }, (_, i) => {
      const seq = from + i;
      return mosquittoPub(['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-i', `pub-${seq}`, '-t', 'gs/soil-x1/up', '-m', JSON.stringify({ ts: base + seq * 1000, seq, moisture: 30 })]);
    }));

  it('stores every reading, including those published while the ingest was away (persistent session, shared group)', async () => {
    mosquitto = await startMosquitto();
    const dataDir = mkdtempSync(join(tmpdir(), 'gs-ext-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const overrides = { mqttSource: mosquitto.url, mqttSourceGroup: 'greenspace', mqttSourceConnections: 3 };
    t = await startTestApp(overrides, { dataDir });
    await t.register({ id: 'soil-x1', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
    const base = Date.now() - 3_600_000;

    const first = await pub(mosquitto.port, 0, 40, base);
    expect(first.every((r) => r.code === 0)).toBe(true);
    await eventually(async () => ((await countPoints(t!.influx, 'soil', 'moisture')) === 40 ? true : undefined), 10_000, '40 points');

    // Ingest away: Mosquitto queues for the persistent sessions of the group.
    const db = t.config.influxDb;
    await t.app.stop();
    await pub(mosquitto.port, 40, 80, base);
    t = await startTestApp({ ...overrides, influxDb: db }, { dataDir });
    await eventually(async () => ((await countPoints(t!.influx, 'soil', 'moisture')) === 80 ? true : undefined), 15_000, 'the 40 queued while away');
    const rows = await queryRows(t.influx, `SELECT moisture, zone, community FROM soil`);
    expect(new Set(rows.map((r) => r.time)).size).toBe(80);
    expect(rows.every((r) => r.zone === 'z1' && r.community === 'c1')).toBe(true);
  });
});
