import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countPoints, eventually, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect, mosquittoPub } from '../../helpers/mqtt.ts';
import { startMosquitto, type Mosquitto } from '../../../bench/mosquitto-process.ts';

describe('external broker mode when the external broker loses our session', () => {
  let mosquitto: Mosquitto | undefined;
  let t: TestApp | undefined;
  const cleanup: Array<() => void> = [];
  afterAll(async () => {
    await t?.stop();
    await mosquitto?.stop();
    for (const c of cleanup) c();
  });

  it('subscribes again, even when its first connection found the session in place', async () => {
    mosquitto = await startMosquitto();
    const dataDir = mkdtempSync(join(tmpdir(), 'gs-ext-session-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const clientId = `gs-ingest-${process.pid}`;
    const overrides = { mqttSource: mosquitto.url, mqttSourceClientId: clientId };
    t = await startTestApp(overrides, { dataDir });
    await t.register({ id: 'soil-s1', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
    // Restarted: this connection finds its session (and subscriptions) kept by Mosquitto.
    const db = t.config.influxDb;
    await t.app.stop();
    t = await startTestApp({ ...overrides, influxDb: db }, { dataDir });

    // The session is lost (here a clean-session takeover of the client id; a broker restart
    // without persistence does the same): the ingest reconnects to a broker that knows no subscription.
    const intruder = await connect(mosquitto.port, { clientId, clean: true, reconnectPeriod: 0 });
    await intruder.endAsync();

    const base = Date.now() - 60_000;
    await eventually(async () => {
      // Published until one is stored: readings sent before the ingest is back are not its to keep.
      const seq = Math.floor((Date.now() - base) / 100);
      const sent = await mosquittoPub(['-h', '127.0.0.1', '-p', String(mosquitto!.port), '-q', '1', '-t', 'gs/soil-s1/up', '-m', JSON.stringify({ ts: base + seq, seq, moisture: 30 })]);
      expect(sent.code).toBe(0);
      return (await countPoints(t!.influx, 'soil', 'moisture')) > 0 ? true : undefined;
    }, 15_000, 'a reading published after the session was lost');
  });
});
