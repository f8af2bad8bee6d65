import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createLogger } from '../../../lib/logger.ts';
import { ALIVE_TTL_MS, createRedisDedup, startDedupHeartbeat } from '../../../cluster/redis-dedup.ts';
import { startTestRedis } from '../../helpers/redis.ts';

/** The claim protocol of the shared duplicate filter, between two nodes, on a real Redis. */
describe('the shared duplicate filter over Redis', { timeout: 30_000 }, () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  const conns: Redis[] = [];
  const logger = createLogger('silent');
  beforeAll(async () => { redis = await startTestRedis(); });
  afterAll(async () => {
    for (const c of conns) c.disconnect();
    await redis?.stop();
  });
  const node = (nodeId: string, options: { pendingTtlMs?: number; timeoutMs?: number; liveness?: boolean } = {}) => {
    const conn = new Redis(redis.url);
    conns.push(conn);
    return createRedisDedup(conn, logger, { nodeId, pollMs: 20, ...options });
  };
  const settle = () => new Promise((r) => setTimeout(r, 100));

  it('the first claimant wins; once it stored, the other node sees a duplicate', async () => {
    const a = node('a');
    const b = node('b');
    expect(await a.claim(['d1\u00001'])).toEqual(['won']);
    expect(await a.claim(['d1\u00001'])).toEqual(['won']); // its own pending claim (a resend after a failed append)
    const waiting = b.claim(['d1\u00001']);
    await settle();
    a.stored(['d1\u00001']);
    expect(await waiting).toEqual(['stored']); // it waited for the original to be durable
  });

  it('a released claim (the append failed) lets the retransmission through on the other node', async () => {
    const a = node('a');
    const b = node('b');
    expect(await a.claim(['d2\u00001'])).toEqual(['won']);
    const waiting = b.claim(['d2\u00001']);
    await settle();
    a.release(['d2\u00001']);
    expect(await waiting).toEqual(['won']);
  });

  it('the claim of a node that died before storing expires, and the other node takes it', async () => {
    const dead = node('dead', { pendingTtlMs: 300 });
    const b = node('b');
    expect(await dead.claim(['d3\u00001'])).toEqual(['won']);
    expect(await b.claim(['d3\u00001'])).toEqual(['won']);
  });

  it('with heartbeats: a live node\'s pending claim is waited for; once its heartbeat lapses (killed), the other node takes it without waiting for the claim to expire', async () => {
    const beatConn = new Redis(redis.url);
    conns.push(beatConn);
    const heartbeat = startDedupHeartbeat(beatConn, 'mortal', logger);
    const mortal = node('mortal', { liveness: true }); // the default pending TTL: 10 s
    const b = node('b', { liveness: true });
    expect(await mortal.claim(['d6\u00001'])).toEqual(['won']);
    const waiting = b.claim(['d6\u00001']);
    let settled = false;
    void waiting.then(() => { settled = true; });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(settled).toBe(false); // alive: its claim holds
    heartbeat.stop(); // as a kill -9 would
    const stoppedAt = Date.now();
    expect(await waiting).toEqual(['won']);
    expect(Date.now() - stoppedAt).toBeLessThan(ALIVE_TTL_MS + 1_500); // not the 10 s pending TTL
  });

  it('a release never frees another node\'s claim', async () => {
    const a = node('a');
    const b = node('b', { timeoutMs: 400 });
    expect(await a.claim(['d4\u00001'])).toEqual(['won']);
    b.release(['d4\u00001']);
    await expect(b.claim(['d4\u00001'])).rejects.toThrow(/did not (settle|answer)/); // still a's, not yet stored
  });

  it('rejects when Redis does not answer, so the ingest stores without it', async () => {
    const conn = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    conn.on('error', () => undefined);
    conns.push(conn);
    await expect(createRedisDedup(conn, logger, { nodeId: 'x', timeoutMs: 500 }).claim(['d5\u00001'])).rejects.toThrow();
  });
});
