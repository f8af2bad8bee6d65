import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createLogger } from '../../../lib/logger.ts';
import { createRedisLeaseStore } from '../../../cluster/redis-lease-store.ts';
import { createOwnership } from '../../../cluster/ownership.ts';
import { eventually } from '../../helpers/app.ts';
import { startTestRedis } from '../../helpers/redis.ts';

const logger = createLogger('silent');
const communities = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('community ownership by leases over Redis', { timeout: 60_000 }, () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  const conns: Redis[] = [];
  const children: ChildProcess[] = [];
  const stops: Array<() => Promise<void>> = [];
  beforeAll(async () => { redis = await startTestRedis(); });
  afterAll(async () => {
    for (const stop of stops) await stop();
    for (const c of children) c.kill('SIGKILL');
    for (const c of conns) c.disconnect();
    await redis?.stop();
  });
  const store = () => {
    const conn = new Redis(redis.url);
    conns.push(conn);
    return createRedisLeaseStore(conn);
  };

  it('a lease is one owner\'s: acquire, renew and release compare the owner; every acquisition\'s fencing token is greater than the last, even after Redis lost its data', async () => {
    const s = store();
    const t1 = (await s.acquire('L1', 'a', 5_000))!;
    expect(t1).toBeGreaterThan(0);
    expect(await s.acquire('L1', 'a', 5_000)).toBe(t1); // held already: the same token
    expect(await s.acquire('L1', 'b', 5_000)).toBeUndefined();
    expect(await s.renew('L1', 'b', 5_000)).toBe(false);
    await s.release('L1', 'b'); // not b's: kept
    expect((await s.holders(['L1', 'L2'])).get('L1')).toBe('a');
    expect((await s.holders(['L1', 'L2'])).get('L2')).toBeUndefined();
    expect(await s.renew('L1', 'a', 5_000)).toBe(true);
    await s.release('L1', 'a');
    const t2 = (await s.acquire('L1', 'b', 200))!;
    expect(t2).toBeGreaterThan(t1);
    await new Promise((r) => setTimeout(r, 300));
    const t3 = (await s.acquire('L1', 'c', 5_000))!; // b's expired
    expect(t3).toBeGreaterThan(t2);
    expect(await s.acquire('L2', 'c', 5_000)).toBeGreaterThan(0); // each key counts its own
    // A restart without persistence: the counter is gone, yet the next token is greater (not 1 again).
    const conn = new Redis(redis.url);
    conns.push(conn);
    await conn.del('gs:lease:L1', 'gs:lease-gen:L1');
    expect(await s.acquire('L1', 'd', 5_000)).toBeGreaterThan(t3);
    await s.release('L1', 'd');
    await s.release('L2', 'c');
  });

  it('two nodes split the communities, each owned by exactly one; an orderly stop hands them over', async () => {
    const keys = communities('split', 10);
    const make = (nodeId: string) => createOwnership({ store: store(), nodeId, keys: () => keys, ttlMs: 2_000, roundMs: 200, logger });
    const a = make('split-a');
    const b = make('split-b');
    stops.push(() => a.stop(), () => b.stop());
    await a.start();
    await b.start();
    await eventually(() => (a.owned().size === 5 && b.owned().size === 5 ? true : undefined), 10_000, 'a 5/5 split');
    expect(keys.filter((k) => a.owns(k) === b.owns(k))).toEqual([]); // every key owned, none twice
    await b.stop();
    await eventually(() => (a.owned().size === 10 ? true : undefined), 5_000, 'a to own all after b stopped');
    await a.stop(); // not live any more: the next test's nodes share the city between themselves
  });

  it('kill -9 of a node: its communities are taken over by the survivor within 15 s (default lease 10 s, rounds of 3 s)', async () => {
    const keys = communities('kill', 20);
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../helpers/ownership-node.ts', import.meta.url))], {
      env: { ...process.env, REDIS_URL: redis.url, NODE_ID: 'kill-child', KEYS: keys.join(',') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    await eventually(() => (out.includes('started 20') ? true : undefined), 30_000, 'the child to own every community');
    const survivor = createOwnership({ store: store(), nodeId: 'kill-survivor', keys: () => keys, logger });
    stops.push(() => survivor.stop());
    await survivor.start();
    await eventually(() => (survivor.owned().size === 10 ? true : undefined), 15_000, 'the survivor to take its half');

    child.kill('SIGKILL');
    const killedAt = Date.now();
    await eventually(() => (survivor.owned().size === 20 ? true : undefined), 20_000, 'the survivor to own all');
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(15_000);
    const holders = await store().holders(keys);
    expect([...holders.values()].every((h) => h === 'kill-survivor')).toBe(true);
  });
});
