import { describe, expect, it } from 'vitest';
import { soilDevice } from '../../fixtures/devices.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createMetrics } from '../../../lib/metrics.ts';
import { createIngest } from '../../../ingest/pipeline.ts';

const T0 = Date.UTC(2026, 4, 1, 6, 0, 0);
const SOIL = soilDevice();

describe('a retransmission that arrives while the original is still being stored', () => {
  function pendingHarness() {
    const appends: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
    const ingest = createIngest({
      lookup: { get: (id) => (id === SOIL.id ? SOIL : undefined), getByDevEui: () => undefined },
      append: () => new Promise<void>((resolve, reject) => appends.push({ resolve, reject })),
      deadLetter: () => undefined,
      metrics: createMetrics({ defaults: false }),
      clock: createManualClock(T0),
      logger: createLogger('silent'),
      limits: { maxFutureSkewMs: 300_000, maxPastAgeMs: 7 * 86_400_000, maxPayloadBytes: 65_536 },
    });
    const msg = { topic: 'gs/soil-1/up', payload: Buffer.from(`{"seq":7,"ts":${T0},"moisture":21}`), qos: 1 as const };
    return { ingest, appends, msg };
  }
  const settled = (p: Promise<unknown>) => {
    const state = { done: false };
    p.then(() => { state.done = true; }, () => { state.done = true; });
    return state;
  };
  const ticks = async () => { for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); };

  it('is not acknowledged before the original is durable', async () => {
    const { ingest, appends, msg } = pendingHarness();
    const original = ingest.handle(msg);
    const duplicate = settled(ingest.handle(msg));
    await ticks();
    expect(duplicate.done).toBe(false); // a PUBACK now would promise a reading that is not yet on disk
    appends[0]!.resolve();
    await original;
    await ticks();
    expect(duplicate.done).toBe(true);
  });

  it('fails with the original when the original could not be stored', async () => {
    const { ingest, appends, msg } = pendingHarness();
    const original = ingest.handle(msg);
    const duplicate = ingest.handle(msg);
    appends[0]!.reject(new Error('ENOSPC'));
    await expect(original).rejects.toThrow('ENOSPC');
    await expect(duplicate).rejects.toThrow('ENOSPC');
    // Sent again after the failure, it is appended again: the dedup window forgot it (a failed write is truncated; a failed sync keeps its lines, and InfluxDB stores the two as one point).
    const again = ingest.handle(msg);
    await ticks();
    expect(appends).toHaveLength(2);
    appends[1]!.resolve();
    await again;
  });
});

describe('a QoS 1 retransmission of a reading first sent at QoS 0', () => {
  it('is acknowledged only after a sync that covers the original (QoS 0 groups are written, not synced)', async () => {
    const appends: Array<() => void> = [];
    const syncs: Array<() => void> = [];
    const ingest = createIngest({
      lookup: { get: (id) => (id === SOIL.id ? SOIL : undefined), getByDevEui: () => undefined },
      append: () => new Promise<void>((resolve) => appends.push(resolve)),
      syncPoint: () => new Promise<void>((resolve) => syncs.push(resolve)),
      deadLetter: () => undefined,
      metrics: createMetrics({ defaults: false }),
      clock: createManualClock(T0),
      logger: createLogger('silent'),
      limits: { maxFutureSkewMs: 300_000, maxPastAgeMs: 7 * 86_400_000, maxPayloadBytes: 65_536 },
    });
    const payload = Buffer.from(`{"seq":9,"ts":${T0},"moisture":21}`);
    const original = ingest.handle({ topic: 'gs/soil-1/up', payload, qos: 0 });
    appends[0]!(); // written (a QoS 0 group: no fdatasync owed)
    await original;
    let acked = false;
    const resend = ingest.handle({ topic: 'gs/soil-1/up', payload, qos: 1 }).then(() => { acked = true; });
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(syncs).toHaveLength(1);
    expect(acked).toBe(false); // a PUBACK now would promise what a power cut could still take
    syncs[0]!();
    await resend;
    expect(acked).toBe(true);
  });
});

