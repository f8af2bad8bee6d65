import { Worker } from 'node:worker_threads';
import type { InfluxTarget } from '../influx/http.ts';
import type { LevelWithSilent } from 'pino';
import type { Logger } from '../lib/logger.ts';
import type { DurableLog } from './durable-log.ts';
import type { ShipperMetrics } from './influx-shipper.ts';
import type { Cursor, SegmentInfo } from './segments.ts';
import { workerEntry } from '../lib/worker-entry.ts';

export interface ShipperWorkerData {
  dir: string;
  segments: SegmentInfo[];
  cursor: Cursor;
  influx: InfluxTarget;
  batchSize: number;
  flushMs: number;
  backoff: { baseMs: number; capMs: number };
  logLevel: LevelWithSilent;
  reportStored: boolean;
}

export type ToWorker =
  | { type: 'durable'; segments: SegmentInfo[]; cursor: Cursor }
  | { type: 'drain'; deadlineMs: number }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'commit'; next: Cursor }
  | { type: 'metric'; name: 'pointsWritten' | 'writeDuration' | 'influxUp'; value: number }
  | { type: 'metric'; name: 'writeError'; kind: string }
  | { type: 'refused'; line: string; message: string }
  | { type: 'stored'; at: number; ts?: Float64Array; count?: number }
  | { type: 'drained'; ok: boolean }
  | { type: 'stopped' };

export interface ShipperThreadDeps {
  log: DurableLog;
  dir: string;
  influx: InfluxTarget;
  batchSize: number;
  flushMs: number;
  backoff: { baseMs: number; capMs: number };
  logger: Logger;
  logLevel: LevelWithSilent;
  metrics: ShipperMetrics;
  onRefused: (line: string, message: string) => void;
  /** Publish → stored latency for benchmarks: the timestamps of the points just stored. */
  onStoredTimestamps?: (ts: Float64Array, at: number) => void;
}

const NOTIFY_MS = 4;

/** Start the shipper in a worker thread; the same drain/stop contract as the in-thread shipper. */
export function startShipperThread(deps: ShipperThreadDeps) {
  const { log } = deps;
  const { segments, cursor } = log.snapshot();
  const workerData: ShipperWorkerData = {
    dir: deps.dir, segments, cursor, influx: deps.influx, batchSize: deps.batchSize, flushMs: deps.flushMs,
    backoff: deps.backoff, logLevel: deps.logLevel, reportStored: deps.onStoredTimestamps !== undefined,
  };
  const worker = new Worker(workerEntry(import.meta.url, 'shipper-worker'), { workerData });
  const waiting = { drained: [] as Array<(ok: boolean) => void>, stopped: [] as Array<() => void> };
  let exited = false;

  // Tell the worker about newly written data at most every NOTIFY_MS, however many commits:
  // under load the log commits hundreds of times a second, and each message is a copy of
  // the segment table; the shipper lingers longer than this before a partial batch anyway.
  let scheduled = false;
  const unsubscribe = log.onWritten(() => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      if (!exited) worker.postMessage({ type: 'durable', ...log.snapshot() } satisfies ToWorker);
    }, NOTIFY_MS);
  });

  worker.on('message', (message: FromWorker) => {
    switch (message.type) {
      case 'commit': log.commit(message.next); break;
      case 'metric':
        if (message.name === 'writeError') deps.metrics.writeError(message.kind);
        else if (message.name === 'pointsWritten') deps.metrics.pointsWritten(message.value);
        else if (message.name === 'writeDuration') deps.metrics.writeDuration(message.value);
        else deps.metrics.influxUp(message.value === 1);
        break;
      case 'refused': deps.onRefused(message.line, message.message); break;
      case 'stored': if (message.ts) deps.onStoredTimestamps?.(message.ts, message.at); break;
      case 'drained': for (const w of waiting.drained.splice(0)) w(message.ok); break;
      case 'stopped': for (const w of waiting.stopped.splice(0)) w(); break;
    }
  });
  worker.on('error', (error) => deps.logger.error({ err: error }, 'shipper thread failed'));
  let terminating = false;
  worker.on('exit', (code) => {
    exited = true;
    for (const w of waiting.drained.splice(0)) w(false);
    for (const w of waiting.stopped.splice(0)) w();
    if (code !== 0 && !terminating) deps.logger.error({ code }, 'shipper thread exited');
  });

  return {
    drain(deadlineMs: number): Promise<boolean> {
      if (exited) return Promise.resolve(false);
      worker.postMessage({ type: 'durable', ...log.snapshot() } satisfies ToWorker);
      worker.postMessage({ type: 'drain', deadlineMs } satisfies ToWorker);
      return new Promise((resolve) => waiting.drained.push(resolve));
    },
    async stop(): Promise<void> {
      unsubscribe();
      if (!exited) {
        worker.postMessage({ type: 'stop' } satisfies ToWorker);
        await new Promise<void>((resolve) => waiting.stopped.push(resolve));
      }
      terminating = true; // terminate() ends the thread with exit code 1
      await worker.terminate();
    },
  };
}
