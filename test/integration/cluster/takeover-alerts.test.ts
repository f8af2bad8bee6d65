import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, eventually, startTestApp, uniqueDb, type TestApp } from '../../helpers/app.ts';
import { startTestRedis } from '../../helpers/redis.ts';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { ownerOf, shareDevice, writeClusterKey } from '../../helpers/cluster.ts';
import { connect, publish } from '../../helpers/mqtt.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
/** The shortest report interval a device may have: offline after 3 of them (30 s) without a reading. */
const INTERVAL_S = 10;
const DEVICE = { id: 'soil-quiet', kind: 'soil', reportIntervalS: INTERVAL_S, place: { district: 'd1', community: 'c1', zone: 'z1', plant: 'lawn', mode: 'manual' } };

/**
 * Two clustered nodes over one Redis and one PostgreSQL: an alert the owner of a community
 * raised is the survivor's to clear once it takes the community over. It seeds the
 * community's detectors from the shared alerts when it gains it, so the device coming back
 * resolves the alert the previous owner raised, and no second one is raised meanwhile.
 */
describe('a community taken over carries its active alerts to the new owner', { timeout: 120_000 }, () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let pg: TestPostgres;
  let a: TestApp;
  let b: TestApp;
  let secret: string;
  const clients: MqttClient[] = [];
  const offlineAlerts = async (node: TestApp) => (await node.app.api.inject({ method: 'GET', url: `/api/v1/alerts?kind=device_offline&subject=${DEVICE.id}`, headers: auth })).json() as Array<{ id: number; state: string; details: { occurrences?: number } | null }>;
  const sendFrom = async (node: TestApp): Promise<void> => {
    const client = await connect(node.app.mqttPort, { clientId: DEVICE.id, username: DEVICE.id, password: secret });
    clients.push(client);
    await publish(client, `gs/${DEVICE.id}/up`, JSON.stringify({ ts: Date.now(), moisture: 30 }), 1);
    client.end(true);
  };

  const key = writeClusterKey();

  beforeAll(async () => {
    [redis, pg] = await Promise.all([startTestRedis(), startTestPostgres()]);
    const clustered = { cluster: 'redis', redisUrl: redis.url, postgresUrl: await pg.createDatabase(), credentialKeyFile: key.file, influxDb: uniqueDb('takeover') };
    a = await startTestApp(clustered);
    b = await startTestApp(clustered);
    secret = await a.register(DEVICE);
    await shareDevice(b, DEVICE, secret);
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await b?.stop();
    await a?.stop();
    await Promise.all([redis?.stop(), pg?.stop()]);
    key.remove();
  });

  it('the owner raises device_offline, stops; the survivor resolves it when the device is back, and raises no second one', async () => {
    const [owner, survivor] = (await ownerOf([a, b], 'c1')) as [TestApp, TestApp];
    await sendFrom(owner);
    // Silent for three intervals: the owner's sweep raises the alert (in the shared PostgreSQL).
    const raised = await eventually(async () => {
      owner.app.health.monitor.sweep();
      await owner.app.health.monitor.settled();
      const list = await offlineAlerts(owner);
      return list.length > 0 ? list : undefined;
    }, 3 * INTERVAL_S * 1_000 + 15_000, 'device_offline raised by the owner');
    expect(raised).toEqual([expect.objectContaining({ state: 'firing' })]);

    await owner.stop();
    await eventually(() => (survivor.app.ownership.owns('c1') ? true : undefined), 15_000, 'the survivor to own c1');
    // The survivor's own sweep while the device is still silent: the alert it now knows is not raised again.
    survivor.app.health.monitor.sweep();
    await survivor.app.health.monitor.settled();

    await sendFrom(survivor);
    const after = await eventually(async () => {
      const list = await offlineAlerts(survivor);
      return list.length > 0 && list.every((x) => x.state === 'resolved') ? list : undefined;
    }, 10_000, 'the alert resolved by the survivor');
    expect(after).toEqual([expect.objectContaining({ id: raised[0]!.id, state: 'resolved' })]);
    expect(after[0]!.details?.occurrences ?? 1).toBe(raised[0]!.details?.occurrences ?? 1);
  });
});
