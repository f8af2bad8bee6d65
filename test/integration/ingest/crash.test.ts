import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import mqtt from 'mqtt';
import { freePort } from '../../../influx/influxd-process.ts';
import { createInfluxHttp } from '../../../influx/http.ts';
import { ADMIN_TOKEN, eventually, queryRows, uniqueDb } from '../../helpers/app.ts';
import { spawnApp, type AppProcess } from '../../helpers/process-app.ts';
import { pointKey, startWriteTap, type WriteTap } from '../../helpers/write-tap.ts';

describe('the app killed with SIGKILL in the middle of a QoS 1 stream', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gs-crash-'));
  let app: AppProcess | undefined;
  let tap: WriteTap | undefined;
  afterAll(async () => {
    await tap?.close();
    if (app && app.child.exitCode === null) {
      app.child.kill('SIGTERM');
      await app.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses no acknowledged reading: after the restart every acked reading is in InfluxDB', async () => {
    const mqttPort = await freePort();
    const db = uniqueDb('crash');
    // The app writes through a tap that keeps every line influxd accepted.
    tap = await startWriteTap(inject('influxUrl'));
    const env = {
      GS_MQTT_PORT: String(mqttPort), GS_MQTT_HOST: '127.0.0.1', GS_HTTP_PORT: '0', GS_HTTP_HOST: '127.0.0.1', GS_DATA_DIR: dataDir,
      GS_INFLUX_URL: tap.url, GS_INFLUX_DB: db, GS_MANAGED_INFLUXD: 'never', GS_ADMIN_TOKEN: ADMIN_TOKEN, GS_WRITE_FLUSH_MS: '50',
      GS_MQTT_PUBLISH_RATE_PER_S: '100000', GS_MQTT_PUBLISH_BURST: '100000', // a durability test, not a rate-limit test
    };
    app = await spawnApp(env);
    const res = await fetch(`http://127.0.0.1:${app.httpPort}/api/v1/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'soil-k1', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } }),
    });
    const { secret } = (await res.json()) as { secret: string };

    // A device that re-sends what was not acknowledged: persistent session, mqtt.js's outgoing store.
    const client = mqtt.connect({ host: '127.0.0.1', port: mqttPort, clientId: 'soil-k1', username: 'soil-k1', password: secret, clean: false, reconnectPeriod: 200, protocolVersion: 4 });
    client.on('error', () => undefined); // refused while the app is down: mqtt.js keeps retrying
    await new Promise((resolve) => client.once('connect', resolve));
    const total = 2000;
    const base = Date.now() - 2 * 3_600_000;
    const acked = new Set<number>();
    const send = (seq: number) => client.publish('gs/soil-k1/up', JSON.stringify({ ts: base + seq * 1000, seq, moisture: seq % 100 }), { qos: 1 }, (error) => {
      if (error) return;
      acked.add(seq);
      if (acked.size === 1000) app!.child.kill('SIGKILL'); // at once, with later packets still in flight
    });
    // The stream runs on across the kill: the first 1,500 go out, the app dies once a
    // thousand are acknowledged (others still in flight, re-sent by the client after it
    // reconnects), and the rest follow once it is back. (Not while it is down: mqtt.js can
    // reuse the message id of an in-flight packet for one published offline and drop it.)
    for (let seq = 0; seq < 1500; seq++) send(seq);
    expect(await app.exited).toBe('SIGKILL');
    const ackedBeforeKill = new Set(acked);
    expect(ackedBeforeKill.size).toBeGreaterThanOrEqual(1000);
    expect(ackedBeforeKill.size).toBeLessThan(total); // killed mid-stream: 500 more follow the restart

    app = await spawnApp(env);
    if (!client.connected) await new Promise((resolve) => client.once('connect', resolve));
    for (let seq = 1500; seq < total; seq++) send(seq);
    await eventually(() => (acked.size === total ? true : undefined), 30_000, 'the client to re-send and get every reading acknowledged').catch((e: unknown) => { throw new Error(`${(e as Error).message}: ${acked.size} acked, connected=${client.connected}`); });
    client.end();

    const influx = createInfluxHttp({ url: inject('influxUrl'), db });
    const stored = await eventually(async () => {
      const rows = await queryRows(influx, `SELECT moisture FROM soil WHERE device = 'soil-k1'`);
      return rows.length === total ? rows : undefined;
    }, 20_000, 'every reading in InfluxDB');
    const storedSeqs = new Set(stored.map((r) => (Number(r.time) - base) / 1000));
    for (const seq of ackedBeforeKill) expect(storedSeqs.has(seq)).toBe(true);
    expect(storedSeqs.size).toBe(total);
    // What was written: every reading at least once. A reading sent before the kill may be
    // written again after it (the durable log replays from a cursor saved a little late, and
    // the client re-sends what it saw no PUBACK for); one sent after the restart, exactly once.
    const writes = new Map<number, number>();
    for (const line of tap.lines((l) => l.startsWith('soil,') && l.includes('device=soil-k1'))) {
      const seq = (Number(pointKey(line).split(' ')[1]) - base) / 1000;
      writes.set(seq, (writes.get(seq) ?? 0) + 1);
    }
    expect(writes.size).toBe(total);
    const afterRestart = [...writes].filter(([seq]) => seq >= 1500);
    expect(afterRestart).toHaveLength(total - 1500);
    expect(afterRestart.filter(([, n]) => n !== 1)).toEqual([]);
  }, 120_000); // two process starts and a full replay: slow on a loaded 2-core machine
});
