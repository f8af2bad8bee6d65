import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { deviceTopic } from '../contracts/topics.ts';

export interface LoadOptions {
  url: string;
  /** One MQTT connection per device, with its registered credentials. */
  devices: ReadonlyArray<{ id: string; secret: string }>;
  /** Target messages per second over all connections; 0 or undefined: as fast as acks allow. */
  rate?: number;
  durationMs: number;
  qos?: 0 | 1;
  /** Publishes outstanding per connection (QoS 1) before it waits for acks. */
  inflight?: number;
  /** Readings per message (1: single objects; more: store-and-forward style arrays). */
  batchSize?: number;
  /** The reading body; the default is a soil reading. */
  reading?: (id: string, seq: number, ts: number) => Record<string, unknown>;
  connectConcurrency?: number;
  signal?: AbortSignal;
}

export interface LoadReport {
  connections: number;
  connectFailures: number;
  connectMs: number;
  durationMs: number;
  published: number;
  acked: number;
  errors: number;
  /** Publishes the rate schedule wanted but the in-flight window did not allow. */
  behind: number;
  publishedPerSec: number;
  /** Acknowledged messages per second (QoS 0: published per second). */
  msgsPerSec: number;
  readingsPerSec: number;
  ackLatencyMs: { p50: number; p95: number; p99: number; max: number };
}

/**
 * The last timestamp given to each device, across runs in this process: a device sending
 * faster than one reading per millisecond runs ahead of the clock, and a second run
 * starting from the clock would reuse its timestamps (InfluxDB keeps one point per series
 * and time, so readings would overwrite each other).
 */
export const lastTsByDevice = new Map<string, number>();

/** The next timestamp for a device's message of `batch` readings: distinct per device (InfluxDB keeps one point per series and time). */
export function nextTimestamp(c: { id: string; lastTs: number }, batch: number): number {
  const ts = Math.max(Date.now(), c.lastTs + 1);
  c.lastTs = ts + batch - 1;
  return ts;
}

/**
 * A message's body. The default single soil reading is written as text: JSON.stringify of
 * an object per publish was a tenth of the generator's CPU, which the app under test shares.
 */
export function payloadFor(reading: LoadOptions['reading'], id: string, seq: number, ts: number, batch: number): string {
  if (batch === 1 && !reading) return defaultPayload(seq, ts);
  const make = reading ?? defaultReading;
  return JSON.stringify(batch === 1 ? make(id, seq, ts) : Array.from({ length: batch }, (_, i) => make(id, seq + i, ts + i)));
}

export const defaultReading = (_id: string, seq: number, ts: number) => ({ ts, seq, moisture: 20 + (seq % 100) / 10, temperature: 18.5, battery: 90 });
/** `JSON.stringify(defaultReading(id, seq, ts))`, written directly (test/unit/sim/load-payload.test.ts). */
export const defaultPayload = (seq: number, ts: number): string => `{"ts":${ts},"seq":${seq},"moisture":${20 + (seq % 100) / 10},"temperature":18.5,"battery":90}`;

const percentile = (sorted: number[], p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);

/**
 * The benchmark's load generator: N device connections publishing readings at a target
 * rate or as fast as the broker acknowledges them. Reports throughput and PUBACK latency.
 */
export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const qos = o.qos ?? 1;
  const window = Math.max(1, o.inflight ?? 16);
  const batch = Math.max(1, o.batchSize ?? 1);
  const { conns, connectFailures, connectMs } = await connectAll(o, async (d) => {
    const client = await mqtt.connectAsync(o.url, { clientId: d.id, username: d.id, password: d.secret, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 30_000 });
    return { id: d.id, client, topic: deviceTopic(d.id, 'up'), seq: 0, outstanding: 0, lastTs: lastTsByDevice.get(d.id) ?? 0 };
  });

  let published = 0;
  let acked = 0;
  let errors = 0;
  const latencies: number[] = [];
  let running = true;

  function send(c: (typeof conns)[number]): void {
    const ts = nextTimestamp(c, batch);
    lastTsByDevice.set(c.id, c.lastTs);
    const payload = payloadFor(o.reading, c.id, c.seq, ts, batch);
    c.seq += batch;
    const started = performance.now();
    c.outstanding++;
    published++;
    c.client.publish(c.topic, payload, { qos }, (error) => {
      c.outstanding--;
      if (error) errors++;
      else {
        acked++;
        if (qos === 1) latencies.push(performance.now() - started);
      }
      if (running && !o.rate) fill(c);
    });
  }
  function fill(c: (typeof conns)[number]): void {
    while (running && c.outstanding < window && c.client.connected) send(c);
  }

  const { durationMs, behind } = await drive(o, conns.length, () => conns.forEach(fill), (i) => {
    const c = conns[i]!;
    if (c.outstanding >= window || !c.client.connected) return false;
    send(c);
    return true;
  });
  running = false;
  // Throughput counts what was acknowledged inside the window; later acks only settle.
  const ackedInWindow = acked;
  const publishedInWindow = published;
  // Give outstanding publishes a moment to be acknowledged (QoS 0: handed to the socket)
  // before closing. A broker holding its intake (backpressure) may leave a QoS 0 socket
  // full for a while: it reads again within its longest hold.
  const settleUntil = performance.now() + (qos === 0 ? 30_000 : 5_000);
  while (conns.some((c) => c.outstanding > 0) && performance.now() < settleUntil) await waitFor(10);
  // QoS 0 ends cleanly: mqtt.js reports a QoS 0 publish sent once its socket has *buffered*
  // it, and a forced close discards that buffer, so a forced close would drop readings the
  // report counts as sent. A clean end flushes them before the DISCONNECT. QoS 1 is forced:
  // what was never acknowledged is not counted.
  await Promise.all(conns.map((c) => c.client.endAsync(qos === 1).catch(() => undefined)));
  return loadReport({ connections: conns.length, connectFailures, connectMs, durationMs, published, acked, errors, behind, msgs: qos === 1 ? ackedInWindow : publishedInWindow, batch, latencies });
}

/** Connect every device, `o.connectConcurrency` (50) at a time; a device that cannot connect is counted, not fatal. */
export async function connectAll<C>(o: Pick<LoadOptions, 'devices' | 'connectConcurrency'>, open: (device: { id: string; secret: string }) => Promise<C>): Promise<{ conns: C[]; connectFailures: number; connectMs: number }> {
  const conns: C[] = [];
  let connectFailures = 0;
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: Math.max(1, o.connectConcurrency ?? 50) }, async () => {
    while (next < o.devices.length) {
      const d = o.devices[next++]!;
      try {
        conns.push(await open(d));
      } catch {
        connectFailures++;
      }
    }
  }));
  return { conns, connectFailures, connectMs: performance.now() - started };
}

/**
 * Publish for `o.durationMs`: as fast as the connections take it (`fillAll`, which the
 * acks keep going), or at `o.rate` messages/s over all connections, round-robin, each tick
 * publishing what the schedule owes; `trySend(i)` false (connection `i`'s window is full)
 * counts as behind.
 */
export async function drive(o: Pick<LoadOptions, 'durationMs' | 'rate' | 'signal'>, connections: number, fillAll: () => void, trySend: (index: number) => boolean): Promise<{ durationMs: number; behind: number }> {
  const start = performance.now();
  let behind = 0;
  if (!o.rate) {
    fillAll();
    await waitFor(o.durationMs, o.signal);
  } else {
    let due = 0;
    let rr = 0;
    while (performance.now() - start < o.durationMs && !o.signal?.aborted && connections > 0) {
      const owed = Math.floor(((performance.now() - start) / 1000) * o.rate) - due;
      for (let i = 0; i < owed; i++) if (!trySend(rr++ % connections)) behind++;
      due += Math.max(0, owed);
      await waitFor(5, o.signal);
    }
  }
  return { durationMs: performance.now() - start, behind };
}

/** The report of a run; `msgs`: the messages that count (QoS 1 acknowledged, QoS 0 published) within the window. */
export function loadReport(r: { connections: number; connectFailures: number; connectMs: number; durationMs: number; published: number; acked: number; errors: number; behind: number; msgs: number; batch: number; latencies: number[] }): LoadReport {
  const latencies = [...r.latencies].sort((a, b) => a - b);
  const seconds = r.durationMs / 1000;
  return {
    connections: r.connections, connectFailures: r.connectFailures, connectMs: Math.round(r.connectMs), durationMs: Math.round(r.durationMs),
    published: r.published, acked: r.acked, errors: r.errors, behind: r.behind,
    publishedPerSec: Math.round(r.published / seconds), msgsPerSec: Math.round(r.msgs / seconds), readingsPerSec: Math.round((r.msgs * r.batch) / seconds),
    ackLatencyMs: { p50: round2(percentile(latencies, 0.5)), p95: round2(percentile(latencies, 0.95)), p99: round2(percentile(latencies, 0.99)), max: round2(latencies.at(-1) ?? 0) },
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export const waitFor = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => { clearTimeout(t); resolve(); };
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
