import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countPoints, eventually, startTestApp, type TestApp } from '../../helpers/app.ts';
import { startTestRedis } from '../../helpers/redis.ts';
import { counterValue } from '../../helpers/cluster.ts';
import { connect, publish } from '../../helpers/mqtt.ts';

/**
 * Redis is the clustered mode's bus, not the readings' path to disk: with Redis gone a
 * node keeps acknowledging and storing readings (without the shared duplicate filter and
 * without their copies in Redis, both counted), and says it is not ready.
 */
describe('a clustered node whose Redis dies', { timeout: 60_000 }, () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let t: TestApp;
  beforeAll(async () => {
    redis = await startTestRedis();
    t = await startTestApp({ cluster: 'redis', redisUrl: redis.url });
  });
  afterAll(async () => {
    await t?.stop();
    await redis?.stop();
  });

  it('keeps acknowledging and storing readings, counts that it stored them unfiltered, and is not ready', async () => {
    const secret = await t.register({ id: 'soil-o', kind: 'soil', place: { district: 'd', community: 'c', zone: 'z' } });
    const device = await connect(t.app.mqttPort, { clientId: 'soil-o', username: 'soil-o', password: secret });
    await publish(device, 'gs/soil-o/up', JSON.stringify({ ts: Date.now() - 1_000, seq: 1, moisture: 30 }), 1);
    await redis.kill();
    const started = Date.now();
    for (let seq = 2; seq <= 6; seq++) await publish(device, 'gs/soil-o/up', JSON.stringify({ ts: Date.now() - 1_000 + seq, seq, moisture: 30 }), 1);
    const elapsedMs = Date.now() - started;
    device.end(true);
    expect(elapsedMs).toBeLessThan(5 * 2_500); // each waits at most the claim's answer timeout (1 s), not Redis' return
    await eventually(async () => ((await countPoints(t.influx, 'soil', 'moisture')) === 6 ? true : undefined), 10_000, 'six stored points');
    expect(await counterValue(t.app.metrics.clusterDedupUnavailable)).toBe(5);
    // Their copies could not go to Redis either: acknowledged on this node's disk alone, and counted.
    expect(await counterValue(t.app.metrics.clusterAckFallback)).toBeGreaterThanOrEqual(5);
    const ready = await t.app.api.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ checks: { redis: false } });
  });
});
