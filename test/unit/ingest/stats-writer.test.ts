import { describe, expect, it } from 'vitest';
import { createIngestStatsWriter } from '../../../ingest/stats-writer.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createMetrics } from '../../../lib/metrics.ts';

const T0 = Date.UTC(2026, 0, 1);

/** Parse one line of our own line protocol (no escaped spaces in these tests). */
function parse(line: string | undefined): { measurement: string; tags: Record<string, string>; fields: Record<string, number>; ts: number } {
  const [head = '', fields = '', ts = ''] = (line ?? '').split(' ');
  const [measurement = '', ...tags] = head.split(',');
  return {
    measurement,
    tags: Object.fromEntries(tags.map((t) => t.split('='))),
    fields: Object.fromEntries(fields.split(',').map((f) => { const [k = '', v = ''] = f.split('='); return [k, Number(v)]; })),
    ts: Number(ts),
  };
}

function setup() {
  const clock = createManualClock(T0);
  const metrics = createMetrics({ defaults: false });
  const appended: string[] = [];
  const writer = createIngestStatsWriter({ registry: metrics.registry, append: async (lines) => { appended.push(...lines); }, now: () => clock.now(), instance: 'node-a' });
  return { clock, metrics, writer, appended };
}

describe('ingest stats writer', () => {
  it('turns counters into per-second rates and per-interval counts, gauges as they are', async () => {
    const { clock, metrics, writer } = setup();
    metrics.messagesReceived.inc({ format: 'native' }, 80);
    metrics.messagesReceived.inc({ format: 'chirpstack' }, 20);
    metrics.readingsAccepted.inc({ kind: 'soil' }, 90);
    metrics.readingsRejected.inc({ reason: 'schema' }, 6);
    metrics.readingsRejected.inc({ reason: 'duplicate' }, 4);
    metrics.pointsWritten.inc(90);
    metrics.writeErrors.inc({ kind: 'retry' });
    metrics.writeDuration.observe(0.01);
    metrics.writeDuration.observe(0.03);
    metrics.durableLogBacklogPoints.set(12);
    metrics.durableLogOldestAge.set(3.5);
    metrics.connectedClients.set(7);
    clock.advance(10_000);
    const point = parse(await writer.sample());
    expect(point.measurement).toBe('ingest_stats');
    expect(point.tags).toEqual({ instance: 'node-a' });
    expect(point.ts).toBe(T0 + 10_000);
    expect(point.fields).toMatchObject({
      messages_per_s: 10, readings_per_s: 9, rejects_per_s: 1, points_per_s: 9, write_errors: 1,
      durable_log_backlog_points: 12, durable_log_backlog_bytes: 0, durable_log_oldest_age_s: 3.5, connected_clients: 7,
      rejected_schema: 6, rejected_duplicate: 4, rejected_malformed_json: 0, rejected_durable_log_overflow: 0,
    });
    expect(point.fields.write_latency_ms).toBeCloseTo(20, 6);
  });

  it.each([
    ['nothing happened', () => {}, { messages_per_s: 0, rejected_schema: 0 }, false],
    ['more rejects', (m: ReturnType<typeof createMetrics>) => m.readingsRejected.inc({ reason: 'schema' }, 30), { rejects_per_s: 0.5, rejected_schema: 30 }, false],
    ['writes again', (m: ReturnType<typeof createMetrics>) => m.writeDuration.observe(0.5), { write_errors: 0 }, true],
  ])('measures the second interval from the first (%s)', async (_what, act, expected, hasLatency) => {
    const { clock, metrics, writer } = setup();
    metrics.messagesReceived.inc({ format: 'native' }, 100);
    metrics.readingsRejected.inc({ reason: 'schema' }, 5);
    clock.advance(10_000);
    await writer.sample();
    act(metrics);
    clock.advance(60_000);
    const point = parse(await writer.sample());
    expect(point.fields).toMatchObject(expected);
    expect('write_latency_ms' in point.fields).toBe(hasLatency);
  });

  it('writes nothing when no time has passed, and appends one line per tick', async () => {
    const { clock, writer, appended } = setup();
    expect(await writer.sample()).toBeUndefined();
    clock.advance(1_000);
    await writer.tick();
    clock.advance(1_000);
    await writer.tick();
    expect(appended).toHaveLength(2);
  });

  it('runs on the scheduler it is given and stops with it', async () => {
    const { clock, writer, appended } = setup();
    const scheduled: Array<{ fn: () => void; ms: number }> = [];
    let stopped = false;
    const stop = writer.start((fn, ms) => { scheduled.push({ fn, ms }); return () => { stopped = true; }; }, 5_000);
    expect(scheduled.map((s) => s.ms)).toEqual([5_000]);
    clock.advance(5_000);
    scheduled[0]?.fn();
    await new Promise((r) => setImmediate(r));
    expect(appended).toHaveLength(1);
    stop();
    expect(stopped).toBe(true);
  });

  it('logs and survives a failing append', async () => {
    const { clock, metrics } = setup();
    const errors: unknown[] = [];
    const logger = { error: (obj: unknown) => errors.push(obj) } as unknown as import('../../../lib/logger.ts').Logger;
    const writer = createIngestStatsWriter({ registry: metrics.registry, append: async () => { throw new Error('disk full'); }, now: () => clock.now(), instance: 'x', logger });
    clock.advance(1_000);
    await expect(writer.tick()).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
  });
});
