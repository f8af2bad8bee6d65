import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { countPoints, startTestApp, uniqueDb, type TestApp } from '../../helpers/app.ts';
import { startTestRedis } from '../../helpers/redis.ts';
import { counterValue, shareDevice } from '../../helpers/cluster.ts';
import { connect, publish } from '../../helpers/mqtt.ts';

const place = { district: 'd1', community: 'c1', zone: 'z1', plant: 'lawn', mode: 'automatic' };

/**
 * A QoS 1 retransmission that lands on the other node: the device published on node A,
 * reconnected to node B before the PUBACK reached it, and sends the same reading again.
 * InfluxDB overwrites a point with the same series and time, which saves a reading that
 * carries the device's timestamp; one without gets the receiving node's clock, so its
 * retransmission is a second point unless the nodes share the duplicate filter.
 */
async function sendTwice(first: TestApp, second: TestApp, id: string, secret: string): Promise<void> {
  const readings = [
    JSON.stringify({ ts: Date.now() - 5_000, seq: 1, moisture: 30 }), // the device's timestamp
    JSON.stringify({ seq: 2, moisture: 31 }), // none: the server's
  ];
  for (const node of [first, second]) {
    const device: MqttClient = await connect(node.app.mqttPort, { clientId: id, username: id, password: secret });
    for (const body of readings) await publish(device, `gs/${id}/up`, body, 1); // resolves on the PUBACK
    await new Promise<void>((resolve) => device.end(false, {}, () => resolve()));
  }
}

const accepted = (t: TestApp) => counterValue(t.app.metrics.readingsAccepted, { kind: 'soil' });
const duplicates = (t: TestApp) => counterValue(t.app.metrics.readingsRejected, { reason: 'duplicate' });
const stored = async (t: TestApp) => {
  // Let both nodes' writers ship (GS_WRITE_FLUSH_MS 50): count after a quiet moment.
  await new Promise((r) => setTimeout(r, 1_500));
  return countPoints(t.influx, 'soil', 'moisture');
};

describe('the same reading delivered to both nodes', { timeout: 60_000 }, () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  const nodes: TestApp[] = [];
  beforeAll(async () => { redis = await startTestRedis(); });
  afterAll(async () => {
    for (const n of nodes.reverse()) await n.stop();
    await redis?.stop();
  });

  const twoNodes = async (clustered: boolean) => {
    const settings = { influxDb: uniqueDb('dup'), ...(clustered ? { cluster: 'redis', redisUrl: redis.url } : {}) };
    const a = await startTestApp(settings);
    nodes.push(a);
    const b = await startTestApp(settings);
    nodes.push(b);
    const secret = await a.register({ id: 'soil-dup', kind: 'soil', place });
    await shareDevice(b, { id: 'soil-dup', kind: 'soil', place }, secret);
    return { a, b, secret };
  };

  it('without a shared filter (two lone nodes, one database): the reading without a device timestamp is stored twice', async () => {
    const { a, b, secret } = await twoNodes(false);
    await sendTwice(a, b, 'soil-dup', secret);
    expect(await accepted(a) + await accepted(b)).toBe(4);
    expect(await stored(a)).toBe(3); // the timestamped one overwrote itself; the other did not
  });

  it('clustered: counted once in the stored-reading metrics and stored once, the retransmission counted as a duplicate on node B', async () => {
    const { a, b, secret } = await twoNodes(true);
    await sendTwice(a, b, 'soil-dup', secret);
    expect(await accepted(a)).toBe(2);
    expect(await accepted(b)).toBe(0);
    expect(await duplicates(b)).toBe(2);
    expect(await stored(a)).toBe(2);
  });
});
