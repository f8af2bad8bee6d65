import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, eventually, queryRows, startTestApp, uniqueDb, type TestApp } from '../../helpers/app.ts';
import { startTestRedis } from '../../helpers/redis.ts';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { ownerOf, shareDevice, writeClusterKey } from '../../helpers/cluster.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { startSimValve } from '../irrigation/sim-valve.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const place = { district: 'd1', community: 'c1', zone: 'z1', plant: 'lawn', mode: 'automatic' };
/** Starts at once below low 22 (threshold controller, no debounce, a window every minute). */
const OVERRIDE = { band: { low: 22, high: 40 }, windows: ['* * * * *'], settings: { controller: 'threshold', debounceS: 0, ackTimeoutS: 3, ackRetries: 1, effectTimeoutS: 600, maxRunS: 600, minIntervalS: 3600 } };

/**
 * The owner's last soil readings are in InfluxDB but not in the zones' state in PostgreSQL
 * (the owner writes sensor tracks only every 5 s; here its rules stop before the readings
 * come, as a node killed within those 5 s would leave them). The node taking community c1
 * over reads each sensor's latest reading from InfluxDB and decides with it: the zone is dry
 * by those readings (12 %), in band by the stored ones (35 %).
 */
describe('a takeover decides with the sensors\' latest readings in InfluxDB, not only the stored tracks', { timeout: 120_000 }, () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let pg: TestPostgres;
  let a: TestApp;
  let b: TestApp;
  const secrets: Record<string, string> = {};
  const clients: MqttClient[] = [];
  let seq = 0;
  const key = writeClusterKey();

  const api = async (node: TestApp, method: 'GET' | 'PUT', url: string, payload?: unknown) => {
    const res = await node.app.api.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.json() as any };
  };
  const decisions = async (node: TestApp) =>
    ((await api(node, 'GET', '/api/v1/zones/z1/decisions')).body as Array<{ action: string; reason: string }>).map((d) => `${d.action}:${d.reason}`).reverse();

  beforeAll(async () => {
    [redis, pg] = await Promise.all([startTestRedis(), startTestPostgres()]);
    const clustered = { cluster: 'redis', redisUrl: redis.url, postgresUrl: await pg.createDatabase(), credentialKeyFile: key.file, influxDb: uniqueDb('latest_soil') };
    a = await startTestApp(clustered);
    b = await startTestApp(clustered);
    for (const body of [
      { id: 'soil-1', kind: 'soil', reportIntervalS: 600, place },
      { id: 'soil-2', kind: 'soil', reportIntervalS: 600, place },
      { id: 'valve-z1', kind: 'valve', place },
    ]) {
      secrets[body.id] = await a.register(body);
      await shareDevice(b, body, secrets[body.id]!);
    }
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await b?.stop();
    await a?.stop();
    await Promise.all([redis?.stop(), pg?.stop()]);
    key.remove();
  });

  it('the survivor starts watering on the dead owner\'s last readings, which only InfluxDB holds', async () => {
    const [owner, survivor] = (await ownerOf([a, b], 'c1')) as [TestApp, TestApp];
    const valve = await startSimValve(survivor.app.mqttPort, 'valve-z1', secrets['valve-z1']!, 'ack');
    try {
      expect((await api(owner, 'PUT', '/api/v1/zones/z1/irrigation', OVERRIDE)).status).toBe(200);
      const sensors = await Promise.all(['soil-1', 'soil-2'].map(async (id) => {
        const client = await connect(owner.app.mqttPort, { clientId: id, username: id, password: secrets[id]! });
        clients.push(client);
        return (moisture: number) => publish(client, `gs/${id}/up`, JSON.stringify({ ts: Date.now(), seq: ++seq, moisture }), 1);
      }));
      for (const send of sensors) await send(35); // in band: no run
      await eventually(async () => ((await api(owner, 'GET', '/api/v1/zones/z1/irrigation')).body.inputs.moisture === 35 ? true : undefined), 5_000, 'z1 at 35 % on the owner');

      // The owner's rules stop (writing the 35 % tracks, as its 5 s flush would have); the
      // readings after that reach InfluxDB through its ingest and durable log, not the state.
      await owner.app.irrigation.stop();
      await new Promise((r) => setTimeout(r, 20)); // the later readings' timestamps after the stored ones'
      for (const send of sensors) await send(12);
      await eventually(async () => ((await queryRows(owner.influx, 'SELECT moisture FROM soil WHERE moisture = 12')).length === 2 ? true : undefined), 10_000, 'the 12 % readings in InfluxDB');
      await owner.stop();

      await eventually(() => (survivor.app.ownership.owns('c1') ? true : undefined), 15_000, 'the survivor to own c1');
      // By the stored tracks (35 %) the zone is in band; by InfluxDB's latest readings it is dry.
      await eventually(async () => ((await decisions(survivor)).includes('start:below_low') ? true : undefined), 10_000, 'the survivor to start z1 on the 12 % readings');
      expect(await decisions(survivor)).toEqual(['start:below_low']);
      await eventually(() => (valve.open ? true : undefined), 5_000, 'the survivor to open valve-z1');
      const status = (await api(survivor, 'GET', '/api/v1/zones/z1/irrigation')).body;
      expect(status.state.sensors['soil-1'].moisture).toBe(12);
      expect(status.state.sensors['soil-2'].moisture).toBe(12);
    } finally {
      await valve.stop();
    }
  });
});
