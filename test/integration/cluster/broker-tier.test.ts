import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, eventually, startTestApp, uniqueDb, type TestApp } from '../../helpers/app.ts';
import { startTestRedis } from '../../helpers/redis.ts';
import { ownerOf, shareDevice } from '../../helpers/cluster.ts';
import { startSimValve } from '../irrigation/sim-valve.ts';
import { freePort } from '../../../influx/influxd-process.ts';
import { LOCK_FILE } from '../../../lib/data-dir-lock.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const FAST = { controller: 'threshold' as const, debounceS: 0, ackTimeoutS: 3, ackRetries: 1, effectTimeoutS: 60, maxRunS: 120, minIntervalS: 3600 };

describe('two nodes over Redis (GS_CLUSTER=redis): the broker tier', { timeout: 60_000 }, () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let a: TestApp;
  let b: TestApp;
  const db = uniqueDb('cluster');

  beforeAll(async () => {
    redis = await startTestRedis();
    const clustered = { cluster: 'redis', redisUrl: redis.url, influxDb: db };
    a = await startTestApp(clustered);
    b = await startTestApp(clustered);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await redis?.stop();
  });

  const api = async (node: TestApp, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
    const res = await node.app.api.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.json() as any };
  };

  it('reports Redis in /readyz on each node', async () => {
    for (const node of [a, b]) {
      const res = await node.app.api.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ checks: { redis: true } });
    }
  });

  it('a valve connected to one node receives the command the community\'s owner decided, and its ack closes the loop on the owner', async () => {
    const place = { district: 'd1', community: 'c1', zone: 'z1', plant: 'lawn', mode: 'automatic' };
    const secret = await a.register({ id: 'valve-z1', kind: 'valve', place });
    await a.register({ id: 'soil-z1', kind: 'soil', place });
    await shareDevice(b, { id: 'valve-z1', kind: 'valve', place }, secret);
    // The node that owns the community decides (only it does); the valve is on the other.
    const [decider, other] = await ownerOf([a, b], 'c1');
    expect((await api(decider, 'PUT', '/api/v1/zones/z1/irrigation', { windows: ['* * * * *'], settings: FAST })).status).toBe(200);

    const valve = await startSimValve(other!.app.mqttPort, 'valve-z1', secret, 'ack');
    try {
      // Asked of the node that does not own c1: forwarded to the owner, which decides (zone-forward.test.ts).
      const started = await api(other!, 'POST', '/api/v1/zones/z1/water-now', { durationS: 600 });
      expect(started.status).toBe(202);
      await eventually(() => (valve.open ? true : undefined), 5_000, 'the valve on the other node to open');
      expect(valve.commands).toEqual([expect.objectContaining({ action: 'open' })]);
      // The ack went to the other node; the owner's executor has it: the run is watering, nothing pending.
      const run = await eventually(async () => {
        const r = (await api(decider, 'GET', '/api/v1/zones/z1/irrigation')).body.state.run;
        return r?.phase === 'watering' ? r : undefined;
      }, 5_000, 'the owner to see the ack');
      expect(run.pending).toBeUndefined();

      expect((await api(decider, 'POST', '/api/v1/zones/z1/pause', { days: 1 })).status).toBe(202); // pausing stops the run
      await eventually(() => (valve.commands.length === 2 && !valve.open ? true : undefined), 5_000, 'the close on the other node');
      await eventually(async () => ((await api(decider, 'GET', '/api/v1/zones/z1/irrigation')).body.state.run === undefined ? true : undefined), 5_000, 'the run to end on the owner');
      // Acknowledged within ackTimeoutS: no retry, no valve_no_ack.
      expect(valve.commands.map((c) => c.action)).toEqual(['open', 'close']);
      expect((await api(decider, 'GET', '/api/v1/zones/z1/signals')).body).toEqual([]);
      expect((await api(decider, 'GET', '/api/v1/zones/z1/decisions')).body.map((d: { action: string; reason: string }) => `${d.action}:${d.reason}`).reverse())
        .toEqual(['start:operator_water_now', 'operator:pause', expect.stringMatching(/^stop:/)]);
    } finally {
      await valve.stop();
    }
  });

  it('a node whose Redis does not answer refuses to start, naming GS_REDIS_URL, and releases its data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gs-noredis-'));
    try {
      const url = `redis://:secret-pw@127.0.0.1:${await freePort()}`;
      await expect(startTestApp({ cluster: 'redis', redisUrl: url }, { dataDir })).rejects.toThrow(/^GS_REDIS_URL redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/? does not answer .*start Redis there or correct the setting/);
      expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
