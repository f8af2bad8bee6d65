import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, eventually, startTestApp, uniqueDb, type TestApp } from '../../helpers/app.ts';
import { startTestRedis } from '../../helpers/redis.ts';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { counterValue, ownerOf, shareDevice, writeClusterKey } from '../../helpers/cluster.ts';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const place = { district: 'd1', community: 'c1', zone: 'z1', plant: 'lawn', mode: 'automatic' };
/** No soil sensor: the rules start nothing of their own; only the operator's actions move the valve. */
const ZONE = { windows: ['* * * * *'], settings: { controller: 'threshold', debounceS: 0, ackTimeoutS: 30, ackRetries: 1, effectTimeoutS: 600, maxRunS: 600, minIntervalS: 3600 } };

/**
 * Two clustered nodes on one Redis and one PostgreSQL: a forwarded zone action's correlation
 * id is recorded in the shared store, so the same request reaching the community's next owner
 * is answered from the record, not run a second time.
 */
describe('zone actions forwarded over a shared PostgreSQL', { timeout: 120_000 }, () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let pg: TestPostgres;
  let a: TestApp;
  let b: TestApp;
  let owner: TestApp;
  let other: TestApp;

  const api = async (node: TestApp, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
    const res = await node.app.api.inject({ method, url, headers: admin, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.json() as any };
  };
  const decisions = async (node: TestApp) => ((await api(node, 'GET', '/api/v1/zones/z1/decisions')).body as Array<{ action: string; reason: string }>).map((d) => `${d.action}:${d.reason}`).reverse();
  const forwarded = (node: TestApp, outcome: string) => counterValue(node.app.metrics.clusterZoneForward, { outcome });
  const key = writeClusterKey();

  beforeAll(async () => {
    [redis, pg] = await Promise.all([startTestRedis(), startTestPostgres()]);
    const clustered = { cluster: 'redis', redisUrl: redis.url, postgresUrl: await pg.createDatabase(), credentialKeyFile: key.file, influxDb: uniqueDb('forward_pg') };
    a = await startTestApp(clustered);
    b = await startTestApp(clustered);
    const secret = await a.register({ id: 'valve-z1', kind: 'valve', place });
    await shareDevice(b, { id: 'valve-z1', kind: 'valve', place }, secret);
    [owner, other] = (await ownerOf([a, b], 'c1')) as [TestApp, TestApp];
    expect((await api(owner, 'PUT', '/api/v1/zones/z1/irrigation', ZONE)).status).toBe(200);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await Promise.all([redis?.stop(), pg?.stop()]);
    key.remove();
  });

  it('a repeat of a forwarded action that reaches the new owner after the community changed hands is answered from the shared record, not run again', async () => {
    const id = randomUUID();
    const ask = () => other.app.zoneForward!.forward({ communityId: 'c1', zoneId: 'z1', action: 'water-now', body: { durationS: 600 }, by: 'retrying-client', id });
    const first = await ask();
    expect(first.status).toBe(202);
    expect(await forwarded(owner, 'performed')).toBe(1);

    // The owner leaves in order; `other` takes c1 over (and closes the run the owner left open).
    await owner.stop();
    await eventually(() => (other.app.ownership.owns('c1') && !other.app.irrigation.adopting('z1') ? true : undefined), 15_000, 'the other node to own c1');
    const again = await ask();
    expect(again).toEqual(first);
    expect(await forwarded(other, 'repeated')).toBe(1);
    expect(await forwarded(other, 'performed')).toBe(0);
    expect((await decisions(other)).filter((d) => d === 'start:operator_water_now')).toHaveLength(1);

    // A new id is run by the new owner as usual.
    const fresh = await other.app.zoneForward!.forward({ communityId: 'c1', zoneId: 'z1', action: 'skip-next', body: {}, by: 'op', id: randomUUID() });
    expect(fresh.status).toBe(202);
    expect(await forwarded(other, 'performed')).toBe(1);
  });
});
