import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { ADMIN_TOKEN, eventually, queryRows, startTestApp, uniqueDb, type TestApp } from '../../helpers/app.ts';
import { startTestRedis } from '../../helpers/redis.ts';
import { counterValue, ownerOf, shareDevice } from '../../helpers/cluster.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { closed, subscribeGranted } from '../broker/support.ts';
import { startSimValve } from '../irrigation/sim-valve.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const place = { district: 'd1', community: 'c1', zone: 'z1', plant: 'lawn', mode: 'automatic' };
/** Starts at once below the band's low (threshold controller, no debounce, a window every minute). */
const ZONE = { band: { low: 22, high: 40 }, windows: ['* * * * *'], settings: { controller: 'threshold', debounceS: 0, ackTimeoutS: 3, ackRetries: 1, effectTimeoutS: 600, maxRunS: 600, minIntervalS: 3600 } };
/** The goal of issue 17: a dead or departed node's communities run on a survivor within 15 s. */
const TAKEOVER_GOAL_MS = 15_000;

type Seen = string[];

/**
 * Two clustered nodes over one Redis and one InfluxDB database, the community c1 owned by
 * one of them (its leases), its devices spread over both. Until the registry is shared
 * (PostgreSQL, docs/cluster.md), every device is given to both nodes with its place.
 */
describe('community ownership across two nodes', { timeout: 120_000 }, () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let a: TestApp;
  let b: TestApp;
  let owner: TestApp;
  let other: TestApp;
  const secrets: Record<string, string> = {};
  const seen = new Map<TestApp, Seen>();
  const clients: MqttClient[] = [];

  const api = async (node: TestApp, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
    const res = await node.app.api.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.json() as any };
  };
  const device = async (node: TestApp, id: string) => {
    const client = await connect(node.app.mqttPort, { clientId: id, username: id, password: secrets[id]! });
    clients.push(client);
    return client;
  };
  let seq = 0;
  const send = (client: MqttClient, id: string, fields: Record<string, number>) => publish(client, `gs/${id}/up`, JSON.stringify({ ts: Date.now(), seq: ++seq, ...fields }), 1);
  const decisions = async (node: TestApp) => ((await api(node, 'GET', '/api/v1/zones/z1/decisions')).body as Array<{ action: string; reason: string }>).map((d) => `${d.action}:${d.reason}`).reverse();

  beforeAll(async () => {
    redis = await startTestRedis();
    const clustered = { cluster: 'redis', redisUrl: redis.url, influxDb: uniqueDb('owner') };
    a = await startTestApp(clustered);
    b = await startTestApp(clustered);
    const devices = [
      { id: 'soil-1', kind: 'soil', reportIntervalS: 600, place },
      { id: 'soil-2', kind: 'soil', reportIntervalS: 600, place },
      { id: 'valve-z1', kind: 'valve', place },
      { id: 'tilt-f1', kind: 'tilt', reportIntervalS: 600, place: { district: 'd1', community: 'c1', facility: 'pav-1', facilityType: 'pavilion' } },
    ];
    for (const body of devices) {
      secrets[body.id] = await a.register(body);
      await shareDevice(b, body, secrets[body.id]!);
    }
    for (const node of [a, b]) {
      const list: Seen = [];
      seen.set(node, list);
      node.app.readings.add('probe', (reading) => list.push(`${reading.deviceId}:${JSON.stringify(reading.fields)}`));
    }
    [owner, other] = (await ownerOf([a, b], 'c1')) as [TestApp, TestApp];
    // Put through either node, the settings are set by the owner (forwarded). Without a shared
    // store each node keeps its own, so the one that survives below gets them in its own store too.
    expect((await api(other, 'PUT', '/api/v1/zones/z1/irrigation', ZONE)).status).toBe(200);
    await other.app.irrigation.setOverride('z1', ZONE as never, 'admin');
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await b?.stop();
    await a?.stop();
    await redis?.stop();
  });

  it('the owner gets every reading of its community once, whichever node the device is on; the other evaluates none', async () => {
    const s2 = await device(other, 'soil-2');
    await send(s2, 'soil-2', { moisture: 40 });
    await eventually(() => (seen.get(owner)!.length === 1 ? true : undefined), 5_000, 'the relayed reading at the owner');
    const s1 = await device(owner, 'soil-1');
    await send(s1, 'soil-1', { moisture: 15 });
    await eventually(() => (seen.get(owner)!.length === 2 ? true : undefined), 5_000, 'the local reading at the owner');
    await new Promise((r) => setTimeout(r, 500)); // a reading processed twice would show by now
    expect(seen.get(owner)).toEqual(['soil-2:{"moisture":40}', 'soil-1:{"moisture":15}']);
    expect(seen.get(other)).toEqual([]);
    expect(await counterValue(other.app.metrics.clusterRelay, { outcome: 'sent' })).toBe(1);
    expect(await counterValue(owner.app.metrics.clusterRelay, { outcome: 'received' })).toBe(1);
    // Two keys in the city (c1, and the devices placed in no community), each held by one node.
    await eventually(async () => (await counterValue(a.app.metrics.clusterOwned) + await counterValue(b.app.metrics.clusterOwned) === 2 ? true : undefined), 10_000, 'two keys held');
  });

  it('a two-sensor zone split over the nodes decides as one process would: no start from one 15 % sensor while the median is above low', async () => {
    const status = (await api(owner, 'GET', '/api/v1/zones/z1/irrigation')).body;
    expect(status.inputs.moisture).toBe(27.5); // median of 40 and 15, above low 22
    expect(status.state.run).toBeUndefined();
    expect((await decisions(owner)).filter((d) => d.startsWith('start:'))).toEqual([]);
    // The other node has no reading of the zone and decides nothing for it; its view of the zone is the owner's (forwarded).
    expect(other.app.irrigation.status('z1')?.inputs.moisture).toBeUndefined();
    expect((await api(other, 'GET', '/api/v1/zones/z1/irrigation')).body.inputs.moisture).toBe(27.5);
    expect(await decisions(other)).toEqual([]);
  });

  it('the owner\'s decision reaches a valve connected to the other node', async () => {
    const valve = await startSimValve(other.app.mqttPort, 'valve-z1', secrets['valve-z1']!, 'ack');
    try {
      const s2 = clients.find((c) => c.options.clientId === 'soil-2')!;
      await send(s2, 'soil-2', { moisture: 14 }); // the median falls below low: start
      await eventually(() => (valve.open ? true : undefined), 5_000, 'the valve to open');
      expect(valve.commands.map((c) => c.action)).toEqual(['open']);
      expect(await decisions(owner)).toEqual([expect.stringMatching(/^start:/)]);
      expect(await decisions(other)).toEqual([]);
    } finally {
      await valve.stop();
    }
  });

  it('a facility alert of the community is raised by the owner alone', async () => {
    const tilt = await device(other, 'tilt-f1');
    await send(tilt, 'tilt-f1', { pitch: 0.4, roll: -0.2, shock: 6 });
    const alerts = await eventually(async () => {
      const list = (await api(owner, 'GET', '/api/v1/alerts?kind=facility_impact')).body as unknown[];
      return list.length > 0 ? list : undefined;
    }, 5_000, 'the impact alert on the owner');
    expect(alerts).toEqual([expect.objectContaining({ kind: 'facility_impact', subject: 'pav-1', communityId: 'c1' })]);
    expect((await api(other, 'GET', '/api/v1/alerts')).body).toEqual([]);
  });

  it('no client reaches the internal relay topic: subscribing is refused (admins too), a wildcard never matches it, publishing closes the connection', async () => {
    const created = await api(other, 'POST', '/api/v1/service-accounts', { id: 'ops', kind: 'admin' });
    expect(created.status).toBe(201);
    const admin = await connect(other.app.mqttPort, { clientId: 'ops', username: 'ops', password: created.body.secret });
    clients.push(admin);
    const received: string[] = [];
    admin.on('message', (topic) => received.push(topic));
    expect(await subscribeGranted(admin, '$gs/readings/+')).toBe(128);
    expect(await subscribeGranted(admin, '$gs/#')).toBe(128);
    expect(await subscribeGranted(admin, '#')).toBe(1);
    expect(await subscribeGranted(admin, '+/readings/+')).toBe(1);
    const s2 = clients.find((c) => c.options.clientId === 'soil-2')!;
    expect(await subscribeGranted(s2, '$gs/readings/c1')).toBe(128);
    const before = seen.get(owner)!.length;
    await send(s2, 'soil-2', { moisture: 16 }); // relayed to the owner over $gs/readings/c1
    await eventually(() => (seen.get(owner)!.length === before + 1 ? true : undefined), 5_000, 'the relayed reading');
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toContain('gs/soil-2/up');
    expect(received.filter((t) => t.startsWith('$'))).toEqual([]);

    // A device publishing on the relay topic is refused and disconnected; the owner evaluates nothing of it.
    const forged = JSON.stringify({ origin: 'x', community: 'c1', reading: { deviceId: 'soil-1', ts: Date.now(), receivedAt: Date.now(), kind: 'soil', fields: { moisture: 1 }, source: 'native' } });
    s2.publish('$gs/readings/c1', forged, { qos: 0 });
    await closed(s2);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.get(owner)!.length).toBe(before + 1);
  });

  it('when the owner stops, the survivor takes the community over within the goal, closes the valve the owner left open and decides for the zone', async () => {
    const valve = await startSimValve(other.app.mqttPort, 'valve-z1', secrets['valve-z1']!, 'ack');
    try {
      // The run has watered the zone: both sensors report 35 % (above low, below high: the run
      // goes on), and InfluxDB holds it. The survivor's takeover reads each sensor's latest
      // reading there (irrigation/latest-soil.ts); left at the 15 and 16 % sent above, it would
      // start a run of its own within milliseconds of its close (a correct decision, but then
      // this test could not tell it from an open that should not be there).
      const s1 = clients.find((c) => c.options.clientId === 'soil-1')!; // on the owner since the first test
      const s2 = await device(owner, 'soil-2');
      await send(s1, 'soil-1', { moisture: 35 });
      await send(s2, 'soil-2', { moisture: 35 });
      const soil = `SELECT last("moisture") FROM "soil" WHERE "zone" = 'z1' GROUP BY "device"`;
      await eventually(async () => {
        const rows = await queryRows(owner.influx, soil);
        return rows.length === 2 && rows.every((r) => r.last === 35) ? true : undefined;
      }, 10_000, 'both sensors at 35 % in InfluxDB');
      // The owner's run is in progress (the valve opened above); the owner goes.
      const run = (await api(owner, 'GET', '/api/v1/zones/z1/irrigation')).body;
      expect(run.state.run).toBeDefined();
      expect(run.inputs.moisture).toBe(35);
      const stoppedAt = Date.now();
      await owner.stop();
      await eventually(() => (other.app.ownership.owns('c1') ? true : undefined), TAKEOVER_GOAL_MS, 'the survivor to own c1');
      const takeoverMs = Date.now() - stoppedAt;
      expect(takeoverMs).toBeLessThan(TAKEOVER_GOAL_MS);
      // It does not know the dead owner's run (its store is its own until the state is shared): it
      // closes the valve anyway; and once it has caught the sensors up (35 %) nothing opens it again.
      await eventually(() => (valve.commands.some((c) => c.action === 'close') ? true : undefined), 5_000, 'the takeover close');
      await eventually(() => (other.app.irrigation.status('z1')?.inputs.moisture === 35 ? true : undefined), 5_000, 'the survivor caught up from InfluxDB');
      // A start would be decided (and logged) as the readings fold in; its open may still be on its way to the valve.
      expect(other.app.irrigation.status('z1')?.state.run).toBeUndefined();
      expect(await decisions(other)).toEqual([]);
      expect(valve.open).toBe(false);
      expect(valve.commands.map((c) => c.action)).toEqual(['close']);

      // Now its own decisions: both sensors report to the survivor, the zone is dry, it waters.
      const moved1 = await device(other, 'soil-1');
      const moved2 = await device(other, 'soil-2');
      await send(moved1, 'soil-1', { moisture: 12 });
      await send(moved2, 'soil-2', { moisture: 13 });
      await eventually(() => (valve.open ? true : undefined), 5_000, 'the survivor to open the valve');
      expect(valve.commands.map((c) => c.action)).toEqual(['close', 'open']);
      expect(await decisions(other)).toEqual([expect.stringMatching(/^start:/)]);
      expect((await api(other, 'GET', '/api/v1/zones/z1/signals')).body).toEqual([]); // the takeover close's ack raised nothing
    } finally {
      await valve.stop();
    }
  });

  it('a node whose lease is lost (dropped in Redis) closes the run it had open at its next round', async () => {
    const valve = await startSimValve(other.app.mqttPort, 'valve-z1', secrets['valve-z1']!, 'ack');
    const conn = new Redis(redis.url);
    try {
      expect((await api(other, 'GET', '/api/v1/zones/z1/irrigation')).body.state.run).toBeDefined(); // the survivor's run from the test above
      const lost = new Promise<void>((resolve) => other.app.ownership.onChange('test', ({ lost: gone }) => { if (gone.includes('c1')) resolve(); }));
      expect(await conn.del('gs:lease:c1')).toBe(1);
      await lost;
      await eventually(() => (valve.commands.some((c) => c.action === 'close') ? true : undefined), 5_000, 'the close of the run');
      expect(valve.commands[0]!.action).toBe('close');
      expect((await decisions(other)).slice(0, 2)).toEqual(['start:below_low', 'stop:restart']);
      // Alone in the cluster, it takes the community again (at the same round); what follows is
      // the rules' own, as after a restart: the zone is still dry, so a fresh run may start.
      await eventually(() => (other.app.ownership.owns('c1') ? true : undefined), 10_000, 'c1 taken again');
    } finally {
      conn.disconnect();
      await valve.stop();
    }
  });

  it('a community an inventory import adds is owned from the next lease round; one it retires is given back', async () => {
    expect(other.app.ownership.owns('c-new')).toBe(false);
    const city = stringify({ version: 1, districts: [{ id: 'd1', name: '测试区', subDistricts: [{ id: 's1', name: '测试街道', communities: [{
      id: 'c-new', name: '新小区', zones: [{ id: 'z-new', name: '新草坪', plant: 'lawn', mode: 'manual' }], devices: [{ id: 'soil-new', kind: 'soil', zone: 'z-new' }],
    }] }] }] });
    const res = await other.app.api.inject({ method: 'PUT', url: '/api/v1/inventory', headers: { ...auth, 'content-type': 'application/yaml' }, payload: city });
    expect(res.statusCode, res.body).toBe(200);
    await eventually(() => (other.app.ownership.owns('c-new') ? true : undefined), 10_000, 'c-new owned');
    expect(other.app.ownership.owns('c1')).toBe(false); // the import does not list it: retired, its lease released
  });
});
