import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createLogger } from '../../../lib/logger.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { openDurableLog, type DurableLog } from '../../../durable-log/durable-log.ts';
import { ACKED_NODES, ACKED_PREFIX, createRedisAckReplica, REPLICA_WAIT_MS } from '../../../cluster/redis-ack-replica.ts';
import { startAckRecovery } from '../../../cluster/ack-recovery.ts';
import { ALIVE_PREFIX } from '../../../cluster/redis-dedup.ts';
import { startTestRedis } from '../../helpers/redis.ts';

/**
 * The copies of acknowledged points in Redis (clustered mode): written before the PUBACK,
 * trimmed as InfluxDB confirms, bounded when Redis does not answer, and written by one
 * survivor when their node's heartbeat lapsed. A real redis-server, a real durable log.
 */
describe('acknowledged points copied to Redis', { timeout: 60_000 }, () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let admin: Redis;
  const logger = createLogger('silent');
  const cleanups: Array<() => Promise<void> | void> = [];
  beforeAll(async () => {
    redis = await startTestRedis();
    admin = new Redis(redis.url);
  });
  afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });
  afterAll(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  /** The replica's own connection, as app/cluster.ts makes it. */
  const replicaConn = async (): Promise<Redis> => {
    const conn = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: false, commandTimeout: REPLICA_WAIT_MS, maxRetriesPerRequest: 0 });
    conn.on('error', () => undefined);
    await conn.connect();
    cleanups.push(() => conn.disconnect());
    return conn;
  };
  async function node(nodeId: string) {
    const dir = mkdtempSync(join(tmpdir(), 'gs-ack-replica-'));
    const log: DurableLog = await openDurableLog({ dir, clock: createManualClock(1), fsync: true, maxBytes: 1e9, onDrop: () => undefined });
    const fallbacks: Array<{ reason: string; points: number }> = [];
    const conn = await replicaConn();
    const replica = createRedisAckReplica({ redis: conn, nodeId, logger, onFallback: (reason, points) => fallbacks.push({ reason, points }) });
    log.setReplica(replica.replica);
    cleanups.push(async () => {
      await log.close();
      await replica.close(false);
      rmSync(dir, { recursive: true, force: true });
    });
    return { log, replica, fallbacks, conn };
  }
  const lines = (tag: string, from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `soil,device=${tag} moisture=${from + i} ${1_000 + from + i}`);
  const copiedLines = async (nodeId: string): Promise<string[]> => {
    const entries = await admin.xrange(ACKED_PREFIX + nodeId, '-', '+');
    return entries.flatMap(([, fields]) => fields[1]!.split('\n').filter((l) => l !== ''));
  };
  const until = async <T>(check: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> => {
    for (const deadline = Date.now() + ms; ;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('has every acknowledged write in the node\'s stream when the append settles, and trims what InfluxDB has confirmed (an entry the cursor is inside stays)', async () => {
    const a = await node('n-trim');
    await a.log.append(lines('a', 0, 3));
    await a.log.append(lines('a', 3, 2));
    expect(await copiedLines('n-trim')).toEqual(lines('a', 0, 5));
    expect(await admin.sismember(ACKED_NODES, 'n-trim')).toBe(1);
    const firstTwo = a.log.read(2)!; // inside the first write
    a.log.commit(firstTwo.next);
    await new Promise((r) => setTimeout(r, 100));
    expect(await copiedLines('n-trim')).toEqual(lines('a', 0, 5));
    const endOfFirstWrite = a.log.read(1)!; // the third line: the first write's end
    a.log.commit(endOfFirstWrite.next);
    await until(async () => ((await copiedLines('n-trim')).length === 2 ? true : undefined));
    expect(await copiedLines('n-trim')).toEqual(lines('a', 3, 2));
    const rest = a.log.read(100)!;
    expect(rest.lines).toEqual(lines('a', 3, 2));
    a.log.commit(rest.next);
    await until(async () => ((await admin.xlen(ACKED_PREFIX + 'n-trim')) === 0 ? true : undefined));
    expect(a.fallbacks).toEqual([]);
  });

  it('a Redis that does not answer holds a PUBACK at most the bounded wait, then the point is kept on the disk alone and counted', async () => {
    const a = await node('n-paused');
    await admin.call('CLIENT', 'PAUSE', String(REPLICA_WAIT_MS * 3), 'WRITE'); // writes wait; Redis is up
    const t0 = Date.now();
    await a.log.append(lines('p', 0, 4));
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(REPLICA_WAIT_MS - 50);
    expect(waited).toBeLessThan(REPLICA_WAIT_MS * 2);
    expect(a.fallbacks).toEqual([{ reason: 'timeout', points: 4 }]);
    expect(a.log.read(10)!.lines).toEqual(lines('p', 0, 4)); // on its disk
    await admin.call('CLIENT', 'UNPAUSE');
  });

  it('a connection that is down does not hold a PUBACK at all: kept on the disk alone, counted as away', async () => {
    const a = await node('n-away');
    a.conn.disconnect(); // as when Redis is gone: no queue, a copy fails at once
    const t0 = Date.now();
    await a.log.append(lines('w', 0, 2));
    expect(Date.now() - t0).toBeLessThan(REPLICA_WAIT_MS / 2);
    expect(a.fallbacks).toEqual([{ reason: 'away', points: 2 }]);
  });

  it('holds at most its byte bound in Redis: past it a write is acknowledged on the disk alone (counted full), and copied again once InfluxDB confirmed what was held', async () => {
    const conn = await replicaConn();
    const fallbacks: Array<{ reason: string; points: number }> = [];
    const bounded = createRedisAckReplica({ redis: conn, nodeId: 'n-full', logger, maxBytes: 70, onFallback: (reason, points) => fallbacks.push({ reason, points }) });
    cleanups.push(() => bounded.close(false));
    const line = (i: number) => Buffer.from(`${lines('f', i, 1)[0]}\n`); // 30 bytes
    await bounded.replica.copy(line(0), { segment: 1, offset: 30, line: 1 }, 1);
    await bounded.replica.copy(line(1), { segment: 1, offset: 60, line: 2 }, 1);
    await bounded.replica.copy(line(2), { segment: 1, offset: 90, line: 3 }, 1); // 90 > 70
    expect(fallbacks).toEqual([{ reason: 'full', points: 1 }]);
    expect(await copiedLines('n-full')).toEqual(lines('f', 0, 2));
    bounded.replica.shipped({ segment: 1, offset: 60, line: 2 }); // InfluxDB has both
    await bounded.replica.copy(line(3), { segment: 1, offset: 120, line: 4 }, 1);
    expect(fallbacks).toHaveLength(1);
    await until(async () => ((await copiedLines('n-full')).join() === lines('f', 3, 1).join() ? true : undefined));
  });

  it('a dead node\'s copies are written by one survivor only, once, then deleted; a live node\'s are left alone', async () => {
    const dead = await node('n-dead');
    const live = await node('n-live');
    await admin.set(ALIVE_PREFIX + 'n-live', '1', 'PX', 60_000);
    for (let i = 0; i < 40; i++) await dead.log.append(lines('d', i * 5, 5)); // 40 writes: several chunks
    await live.log.append(lines('l', 0, 3));
    dead.log.setReplica(undefined); // killed: nothing more from it, and no heartbeat (never set)

    const written: Array<{ by: string; lines: string[] }> = [];
    const recovered: Record<string, number> = { s1: 0, s2: 0 };
    for (const s of ['s1', 's2']) {
      const recovery = startAckRecovery({
        redis: await replicaConn(), nodeId: s, everyMs: 50, logger,
        append: async (ls) => { written.push({ by: s, lines: ls }); await new Promise((r) => setTimeout(r, 5)); },
        onRecovered: (n) => { recovered[s]! += n; },
      });
      cleanups.push(() => recovery.stop());
    }
    await until(async () => ((await admin.exists(ACKED_PREFIX + 'n-dead')) === 0 ? true : undefined));
    // Earlier tests' nodes have no heartbeat either: they are dead too, and recovered as well.
    const all = written.flatMap((w) => w.lines);
    expect(new Set(all).size).toBe(all.length); // nothing written twice
    expect(all.filter((l) => l.includes('device=d'))).toEqual(lines('d', 0, 200)); // each once, in order
    expect(new Set(written.filter((w) => w.lines.some((l) => l.includes('device=d'))).map((w) => w.by)).size).toBe(1); // one survivor took it
    expect(recovered.s1! + recovered.s2!).toBe(all.length);
    expect(await admin.sismember(ACKED_NODES, 'n-dead')).toBe(0);
    // The live node: untouched.
    await new Promise((r) => setTimeout(r, 300));
    expect(await copiedLines('n-live')).toEqual(lines('l', 0, 3));
    expect(all.some((l) => l.includes('device=l'))).toBe(false);
  });

  it('a node stopped with everything shipped removes its stream and registration; one stopped with a backlog leaves them for a survivor', async () => {
    const conn = await replicaConn();
    const clean = createRedisAckReplica({ redis: conn, nodeId: 'n-clean', logger, onFallback: () => undefined });
    await clean.replica.copy(Buffer.from(`${lines('c', 0, 1)[0]}\n`), { segment: 1, offset: 30, line: 1 }, 1);
    await until(async () => ((await admin.sismember(ACKED_NODES, 'n-clean')) === 1 ? true : undefined));
    await clean.close(true);
    expect(await admin.exists(ACKED_PREFIX + 'n-clean')).toBe(0);
    expect(await admin.sismember(ACKED_NODES, 'n-clean')).toBe(0);

    const conn2 = await replicaConn();
    const behind = createRedisAckReplica({ redis: conn2, nodeId: 'n-behind', logger, onFallback: () => undefined });
    await behind.replica.copy(Buffer.from(`${lines('b', 0, 1)[0]}\n`), { segment: 1, offset: 30, line: 1 }, 1);
    await until(async () => ((await admin.sismember(ACKED_NODES, 'n-behind')) === 1 ? true : undefined));
    await behind.close(false);
    expect(await copiedLines('n-behind')).toEqual(lines('b', 0, 1));
    expect(await admin.sismember(ACKED_NODES, 'n-behind')).toBe(1);
  });
});
