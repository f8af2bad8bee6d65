import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, eventually, startTestApp, uniqueDb, type TestApp } from '../../helpers/app.ts';
import { startTestRedis } from '../../helpers/redis.ts';
import { counterValue, ownerOf, shareDevice } from '../../helpers/cluster.ts';
import { startSimValve } from '../irrigation/sim-valve.ts';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const place = { district: 'd1', community: 'c1', zone: 'z1', plant: 'lawn', mode: 'automatic' };
/** No soil sensor: the rules start nothing of their own; only the operator's actions move the valve. */
const ZONE = { windows: ['* * * * *'], settings: { controller: 'threshold', debounceS: 0, ackTimeoutS: 3, ackRetries: 1, effectTimeoutS: 600, maxRunS: 600, minIntervalS: 3600 } };

/**
 * Two clustered nodes behind one load balancer: an operator's zone action reaches either.
 * The node that does not own the zone's community authorizes it and forwards it over the
 * bus to the owner, whose answer it returns (cluster/zone-forward.ts).
 */
describe('zone actions forwarded to the community\'s owner', { timeout: 120_000 }, () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let a: TestApp;
  let b: TestApp;
  let owner: TestApp;
  let other: TestApp;
  let secret: string;

  const api = async (node: TestApp, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, headers: Record<string, string> = admin) => {
    const res = await node.app.api.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.json() as any };
  };
  const decisions = async (node: TestApp) => ((await api(node, 'GET', '/api/v1/zones/z1/decisions')).body as Array<{ action: string; reason: string }>).map((d) => `${d.action}:${d.reason}`).reverse();
  const forwarded = (node: TestApp, outcome: string) => counterValue(node.app.metrics.clusterZoneForward, { outcome });
  const idle = (node: TestApp) => eventually(async () => ((await api(node, 'GET', '/api/v1/zones/z1/irrigation')).body.state.run === undefined ? true : undefined), 5_000, 'the run to end on the owner');

  beforeAll(async () => {
    redis = await startTestRedis();
    const clustered = { cluster: 'redis', redisUrl: redis.url, influxDb: uniqueDb('forward') };
    a = await startTestApp(clustered);
    b = await startTestApp(clustered);
    secret = await a.register({ id: 'valve-z1', kind: 'valve', place });
    await shareDevice(b, { id: 'valve-z1', kind: 'valve', place }, secret);
    [owner, other] = (await ownerOf([a, b], 'c1')) as [TestApp, TestApp];
    // Through either node: the owner of c1 sets them (forwarded once c1 has an owner), as the test below checks.
    for (const node of [a, b]) expect((await api(node, 'PUT', '/api/v1/zones/z1/irrigation', ZONE)).status).toBe(200);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await redis?.stop();
  });

  it('refuses on the receiving node, before forwarding: a viewer (403) and an operator of another district (404)', async () => {
    const token = async (body: object) => ({ authorization: `Bearer ${(await api(other, 'POST', '/api/v1/tokens', body)).body.secret as string}` });
    const viewer = await token({ name: 'viewer', role: 'viewer' });
    const elsewhere = await token({ name: 'op-d2', role: 'operator', districts: ['d2'] });
    const [sent, performed] = [await forwarded(other, 'sent'), await forwarded(owner, 'performed')]; // the settings put through `other` before
    expect((await api(other, 'POST', '/api/v1/zones/z1/water-now', { durationS: 60 }, viewer)).status).toBe(403);
    expect((await api(other, 'POST', '/api/v1/zones/z1/water-now', { durationS: 60 }, elsewhere)).status).toBe(404);
    expect(await forwarded(other, 'sent')).toBe(sent);
    expect(await forwarded(owner, 'performed')).toBe(performed);
    expect(await decisions(owner)).toEqual([]);
  });

  it('water-now asked of the other node opens the valve connected to the owner; the answer is the owner\'s, as if asked directly', async () => {
    const valve = await startSimValve(owner.app.mqttPort, 'valve-z1', secret, 'ack');
    try {
      const started = await api(other, 'POST', '/api/v1/zones/z1/water-now', { durationS: 600 });
      expect(started.status).toBe(202);
      expect(started.body.decisions).toEqual([expect.objectContaining({ zoneId: 'z1', action: 'start', reason: 'operator_water_now', actor: 'admin' })]);
      await eventually(() => (valve.open ? true : undefined), 5_000, 'the valve on the owner to open');
      expect(await decisions(owner)).toEqual(['start:operator_water_now']);
      expect(await decisions(other)).toEqual([]);

      // A refusal by the owner's rules comes back as the owner gives it.
      const direct = await api(owner, 'POST', '/api/v1/zones/z1/water-now', { durationS: 600 });
      const relayed = await api(other, 'POST', '/api/v1/zones/z1/water-now', { durationS: 600 });
      expect(direct.status).toBe(409);
      expect(relayed.status).toBe(409);
      const shape = (body: any) => ({ ...body, decisions: body.decisions.map((d: any) => ({ ...d, id: undefined, at: undefined, time: undefined, inputs: undefined })) });
      expect(shape(relayed.body)).toEqual(shape(direct.body));
      expect(relayed.body).toMatchObject({ error: 'conflict', message: 'not done: already_running' });

      expect((await api(other, 'POST', '/api/v1/zones/z1/pause', { days: 1 })).status).toBe(202);
      await eventually(() => (!valve.open && valve.commands.length === 2 ? true : undefined), 5_000, 'the close');
      expect((await api(other, 'POST', '/api/v1/zones/z1/pause', { days: 0 })).status).toBe(202);
      await idle(owner);
      expect(valve.commands.map((c) => c.action)).toEqual(['open', 'close']);
    } finally {
      await valve.stop();
    }
  });

  it('water-now asked of the other node opens the valve connected to that node; a repeat with the same correlation id is answered again, not applied twice', async () => {
    const valve = await startSimValve(other.app.mqttPort, 'valve-z1', secret, 'ack');
    try {
      const started = await api(other, 'POST', '/api/v1/zones/z1/water-now', { durationS: 600 });
      expect(started.status).toBe(202);
      await eventually(() => (valve.open ? true : undefined), 5_000, 'the valve on the other node to open');
      expect((await api(other, 'POST', '/api/v1/zones/z1/pause', { days: 1 })).status).toBe(202);
      await eventually(() => (!valve.open && valve.commands.length === 2 ? true : undefined), 5_000, 'the close');
      expect((await api(other, 'POST', '/api/v1/zones/z1/pause', { days: 0 })).status).toBe(202);
      await idle(owner);

      const performed = await forwarded(owner, 'performed');
      const id = randomUUID();
      const ask = () => other.app.zoneForward!.forward({ communityId: 'c1', zoneId: 'z1', action: 'water-now', body: { durationS: 600 }, by: 'retrying-client', id });
      const first = await ask();
      const again = await ask();
      expect(first.status).toBe(202);
      expect(again).toEqual(first);
      await eventually(() => (valve.open ? true : undefined), 5_000, 'the valve to open');
      await new Promise((r) => setTimeout(r, 300)); // a second open would show by now
      expect(valve.commands.map((c) => c.action)).toEqual(['open', 'close', 'open']);
      expect(await forwarded(owner, 'performed')).toBe(performed + 1);
      expect(await forwarded(owner, 'repeated')).toBeGreaterThanOrEqual(1);
      expect((await decisions(owner)).filter((d) => d === 'start:operator_water_now')).toHaveLength(3);
      expect((await api(owner, 'POST', '/api/v1/zones/z1/pause', { days: 1 })).status).toBe(202);
      await idle(owner);
    } finally {
      await valve.stop();
    }
  });

  it('the zone\'s view asked of the other node is the owner\'s (its run), and settings put through the other node are the owner\'s at once', async () => {
    const valve = await startSimValve(owner.app.mqttPort, 'valve-z1', secret, 'ack');
    try {
      // No shared store here: only forwarding can bring the override to the owner, and at once.
      expect((await api(other, 'PUT', '/api/v1/zones/z1/irrigation', { ...ZONE, settings: { ...ZONE.settings, maxRunS: 555 } })).status).toBe(200);
      expect(owner.app.irrigation.effectiveSettings('z1')?.maxRunS).toMatchObject({ value: 555, source: 'zone_override' });
      expect((await api(other, 'POST', '/api/v1/zones/z1/pause', { days: 0 })).status).toBe(202); // the test before paused it
      const refused = await api(other, 'PUT', '/api/v1/zones/z1/irrigation', { windows: ['not a cron'] });
      expect(refused).toMatchObject({ status: 400, body: { error: 'bad_request' } }); // checked on the receiving node, as before
      expect((await api(other, 'POST', '/api/v1/zones/z1/water-now', { durationS: 600 })).status).toBe(202);
      await eventually(() => (valve.open ? true : undefined), 5_000, 'the valve to open');
      const seen = await api(other, 'GET', '/api/v1/zones/z1/irrigation');
      const own = await api(owner, 'GET', '/api/v1/zones/z1/irrigation');
      expect(seen.status).toBe(200);
      expect(seen.body.state.run).toMatchObject({ id: own.body.state.run.id, phase: own.body.state.run.phase });
      expect(seen.body.effective.maxRunS).toMatchObject({ value: 555, source: 'zone_override' });
      expect(other.app.irrigation.stateOf('z1')?.run).toBeUndefined(); // what the other node itself holds: no run
      expect((await api(other, 'POST', '/api/v1/zones/z1/pause', { days: 1 })).status).toBe(202);
      await eventually(() => (!valve.open ? true : undefined), 5_000, 'the close');
      expect((await api(other, 'POST', '/api/v1/zones/z1/pause', { days: 0 })).status).toBe(202);
      await idle(owner);
      expect((await api(other, 'PUT', '/api/v1/zones/z1/irrigation', ZONE)).status).toBe(200);
    } finally {
      await valve.stop();
    }
  });

  it('an owner that does not answer: 503 owner_unavailable in bounded time, not a hang', async () => {
    await owner.app.zoneForward!.stop(); // the owner holds its lease but no longer answers forwarded actions
    try {
      const started = Date.now();
      const res = await api(other, 'POST', '/api/v1/zones/z1/skip-next', {});
      const elapsed = Date.now() - started;
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('owner_unavailable');
      expect(res.body.message).toMatch(/^负责该片区的节点 5 秒内未应答.* \/ the node that owns the zone's community did not answer within 5 s/);
      expect(elapsed).toBeGreaterThanOrEqual(4_900);
      expect(elapsed).toBeLessThan(8_000);
      expect(await forwarded(other, 'timeout')).toBe(1);
      expect(await forwarded(other, 'resent')).toBeGreaterThanOrEqual(1);
      expect((await decisions(owner)).filter((d) => d.startsWith('operator:skip'))).toEqual([]);
    } finally {
      await owner.app.zoneForward!.start();
    }
  });
});
