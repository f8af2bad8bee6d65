import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/logger.ts';
import { connectRedisBrokerTier, type RedisBrokerTier } from '../../../cluster/redis-tier.ts';
import { isReadingTopic } from '../../../ingest/pipeline.ts';
import { startTestRedis } from '../../helpers/redis.ts';

type Bus = { emit(packet: { topic: string; payload: Buffer }, done?: (error?: unknown) => void): void; close(cb: () => void): void };

/**
 * While Redis is away the bus keeps at most `maxWaiting` publishes waiting for it; the rest
 * are dropped at once and counted, so a long outage costs bounded memory. Real Redis,
 * killed; the bus is the one a clustered node's broker uses.
 */
describe('the bus to the other nodes while Redis is away', { timeout: 30_000 }, () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let tier: RedisBrokerTier;
  const dropped: string[] = [];
  beforeAll(async () => {
    redis = await startTestRedis();
    tier = await connectRedisBrokerTier(redis.url, createLogger('silent'), isReadingTopic, { maxWaiting: 5, onDrop: (topic) => dropped.push(topic) });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => (tier.mq as Bus).close(resolve));
    await tier.close();
    await redis?.stop();
  });

  it('passes everything while Redis answers; once it is gone, keeps 5 waiting and drops the rest, answering their publishers at once', async () => {
    const bus = tier.mq as Bus;
    const send = (topic: string) => new Promise<unknown>((resolve) => bus.emit({ topic, payload: Buffer.from('x') }, resolve));
    for (let i = 0; i < 20; i++) expect(await send('gs/v1/down')).toBeUndefined(); // sent, none dropped
    expect(dropped).toEqual([]);

    await redis.kill();
    const pubConn = (tier.mq as unknown as { pubConn: { status: string; offlineQueue: { length: number } } }).pubConn;
    for (let i = 0; i < 100 && pubConn.status === 'ready'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(pubConn.status).not.toBe('ready');

    const answered: number[] = [];
    const waits = Array.from({ length: 12 }, (_, i) => send(i % 2 ? 'gs/s1/up' : 'gs/v1/down').then(() => answered.push(i)));
    await new Promise((r) => setTimeout(r, 200));
    expect(dropped).toHaveLength(7);
    expect(dropped.filter((t) => t === 'gs/s1/up')).toHaveLength(4); // readings (odd) and commands alike
    // The dropped ones are answered at once; of the first 5, the commands wait for Redis
    // (the readings among them never wait: readingsDoNotWait).
    expect(answered.sort((a, b) => a - b)).toEqual([1, 3, 5, 6, 7, 8, 9, 10, 11]);
    expect(pubConn.offlineQueue.length).toBeLessThanOrEqual(5);
    void waits;
  });
});
