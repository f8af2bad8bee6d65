import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, eventually, startTestApp, uniqueDb, type TestApp } from '../../helpers/app.ts';
import { startTestRedis } from '../../helpers/redis.ts';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { ownerOf, shareDevice, writeClusterKey } from '../../helpers/cluster.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { startSimValve } from '../irrigation/sim-valve.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const inZone = (zone: string) => ({ district: 'd1', community: 'c1', zone, plant: 'lawn', mode: 'automatic' });
/** Set through the first owner only: starts at once below low 22 (threshold controller, no debounce, a window every minute). */
const OVERRIDE = { band: { low: 22, high: 40 }, windows: ['* * * * *'], settings: { controller: 'threshold', debounceS: 0, ackTimeoutS: 3, ackRetries: 1, effectTimeoutS: 600, maxRunS: 600, minIntervalS: 3600 } };

/**
 * Two clustered nodes (one Redis, one PostgreSQL through GS_POSTGRES_URL, each its own data
 * directory): the irrigation state is in PostgreSQL, so the node that takes community c1
 * over finds the run its previous owner left open and closes that valve alone, and decides
 * with the override set through the previous owner.
 */
describe('irrigation state shared in PostgreSQL: a takeover closes the open run, only that one', { timeout: 120_000 }, () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let pg: TestPostgres;
  let a: TestApp;
  let b: TestApp;
  const secrets: Record<string, string> = {};
  const clients: MqttClient[] = [];
  let seq = 0;

  const api = async (node: TestApp, method: 'GET' | 'PUT', url: string, payload?: unknown) => {
    const res = await node.app.api.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.json() as any };
  };
  const decisions = async (node: TestApp, zone: string) =>
    ((await api(node, 'GET', `/api/v1/zones/${zone}/decisions`)).body as Array<{ action: string; reason: string }>).map((d) => `${d.action}:${d.reason}`).reverse();
  const soil = async (node: TestApp, id: string) => {
    const client = await connect(node.app.mqttPort, { clientId: id, username: id, password: secrets[id]! });
    clients.push(client);
    return (moisture: number) => publish(client, `gs/${id}/up`, JSON.stringify({ ts: Date.now(), seq: ++seq, moisture }), 1);
  };

  const key = writeClusterKey();

  beforeAll(async () => {
    [redis, pg] = await Promise.all([startTestRedis(), startTestPostgres()]);
    const clustered = { cluster: 'redis', redisUrl: redis.url, postgresUrl: await pg.createDatabase(), credentialKeyFile: key.file, influxDb: uniqueDb('irr_takeover') };
    a = await startTestApp(clustered);
    b = await startTestApp(clustered);
    const devices = [
      { id: 'soil-1', kind: 'soil', reportIntervalS: 600, place: inZone('z1') },
      { id: 'valve-z1', kind: 'valve', place: inZone('z1') },
      { id: 'soil-2', kind: 'soil', reportIntervalS: 600, place: inZone('z2') },
      { id: 'valve-z2', kind: 'valve', place: inZone('z2') },
    ];
    // Registered on A; the shared registry carries them to B.
    for (const body of devices) {
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

  it('the survivor finds the dead owner\'s open run in the shared store, closes its valve, leaves the idle zone\'s valve alone, and decides with the override set through the dead owner', async () => {
    const [owner, survivor] = (await ownerOf([a, b], 'c1')) as [TestApp, TestApp];
    // Both valves on the node that will survive: commands from either node reach them through Redis.
    const valve1 = await startSimValve(survivor.app.mqttPort, 'valve-z1', secrets['valve-z1']!, 'ack');
    const valve2 = await startSimValve(survivor.app.mqttPort, 'valve-z2', secrets['valve-z2']!, 'ack');
    try {
      // The override is written through the owner only, into PostgreSQL.
      for (const zone of ['z1', 'z2']) expect((await api(owner, 'PUT', `/api/v1/zones/${zone}/irrigation`, OVERRIDE)).status).toBe(200);
      const send1 = await soil(owner, 'soil-1');
      await send1(12); // below low 22: the owner opens z1's valve
      await eventually(() => (valve1.open ? true : undefined), 5_000, 'the owner to open valve-z1');
      const send2 = await soil(owner, 'soil-2');
      await send2(35); // z2 is in its band: no run
      await eventually(async () => ((await api(owner, 'GET', '/api/v1/zones/z2/irrigation')).body.inputs.moisture === 35 ? true : undefined), 5_000, 'z2 to have its reading');

      // The owner dies with z1's run open: its rules stop deciding (nothing closes the run), then it goes.
      await owner.app.irrigation.stop();
      await owner.stop();
      await eventually(() => (survivor.app.ownership.owns('c1') ? true : undefined), 15_000, 'the survivor to own c1');
      await eventually(() => (valve1.commands.some((c) => c.action === 'close') ? true : undefined), 5_000, 'the survivor to close valve-z1');
      // The run, as the shared store holds it: the dead owner's start, the survivor's stop; then,
      // the zone still dry (12 %, the dead owner's reading, from the shared state) and the cut run
      // not counting for the minimum interval, the survivor's own fresh run — by the override set
      // through the dead owner: the threshold controller at low 22 (`below_low`), which the
      // inventory's zone does not have (nor any watering window).
      await eventually(async () => ((await decisions(survivor, 'z1')).length >= 3 ? true : undefined), 5_000, 'the survivor\'s own run');
      expect(await decisions(survivor, 'z1')).toEqual(['start:below_low', 'stop:restart', 'start:below_low']);
      await eventually(() => (valve1.open ? true : undefined), 5_000, 'the survivor to water z1');
      expect(valve1.commands.map((c) => c.action)).toEqual(['open', 'close', 'open']);
      const effective = (await api(survivor, 'GET', '/api/v1/zones/z1/irrigation')).body.effective;
      expect(effective.controller).toMatchObject({ value: 'threshold', source: 'zone_override' });
      expect(effective.band).toMatchObject({ value: { low: 22, high: 40 }, source: 'zone_override' });

      // The zone with no run open was left alone: no close storm on a takeover.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(valve2.commands).toEqual([]);
    } finally {
      await valve1.stop();
      await valve2.stop();
    }
  });
});
