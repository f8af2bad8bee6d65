import type { Logger } from '../lib/logger.ts';
import type { InfluxHttp, WriteOutcome } from '../influx/http.ts';
import { chunkLines, type Backlog, type Cursor } from './segments.ts';

/** What the shipper needs of the durable log: the log itself, or a view of it in another thread. */
export interface ShipperLog {
  read(maxLines: number): { lines: string[]; next: Cursor } | undefined;
  /** The same lines as the bytes they are on disk, when the log can give them so (no string per line). */
  readChunk?(maxLines: number): { body: Buffer; count: number; next: Cursor } | undefined;
  commit(next: Cursor): void;
  backlog(): Backlog;
  onWritten(listener: () => void): () => void;
}

export interface ShipperMetrics {
  pointsWritten(n: number): void;
  writeError(kind: string): void;
  writeDuration(seconds: number): void;
  influxUp(up: boolean): void;
}

/** Points on their way to InfluxDB: the request body, and its lines only when they are needed. */
export interface Batch {
  body: string | Buffer;
  count: number;
  lines(): string[];
}

const fromLines = (lines: string[]): Batch => ({ body: lines.join('\n'), count: lines.length, lines: () => lines });

export interface ShipperDeps {
  log: ShipperLog;
  influx: InfluxHttp;
  batchSize: number;
  flushMs: number;
  metrics: ShipperMetrics;
  logger: Logger;
  /** A point InfluxDB refused for good (type conflict, unparsable): dead-letter it. */
  onRefused: (line: string, message: string) => void;
  /** Points InfluxDB has just stored (benchmarks measure publish → stored latency here). */
  onStored?: (batch: Batch, at: number) => void;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  random: () => number;
  now: () => number;
  backoff?: { baseMs: number; capMs: number };
}

/**
 * Moves points from the durable log to InfluxDB, in order, one batch at a time.
 * A batch goes when it is full or its oldest point has waited `flushMs`. Retries with
 * exponential backoff and full jitter on anything that may pass later (5xx, timeouts,
 * refused connections, auth errors); a 400 means InfluxDB 1.x wrote the valid points
 * and refused others, so the batch is split until the refused points are isolated
 * and dead-lettered (re-sending the valid ones is harmless: same series, same time).
 */
export function createInfluxShipper(deps: ShipperDeps) {
  const { log, logger } = deps;
  const stop = new AbortController();
  const delay = backoffDelay(deps);
  const send = createSender(deps, stop.signal, delay);
  let wake: AbortController = new AbortController();
  let running: Promise<void> | undefined;
  let firstPendingAt: number | undefined;

  const unsubscribe = log.onWritten(() => {
    firstPendingAt ??= deps.now();
    wake.abort();
  });

  async function pause(ms: number): Promise<void> {
    const signal = AbortSignal.any([stop.signal, wake.signal]);
    await deps.sleep(ms, signal).catch(() => undefined);
  }

  async function run(): Promise<void> {
    for (let failures = 0; !stop.signal.aborted;) {
      try {
        await step();
        failures = 0;
      } catch (error) {
        // Whatever failed, the points are still on disk: a shipper that stopped here would
        // leave them to the disk budget until a restart.
        logger.error({ err: error, failures }, 'shipper step failed; retrying');
        await deps.sleep(delay(failures++), stop.signal).catch(() => undefined);
      }
    }
  }

  function readBatch(maxLines: number): (Batch & { next: Cursor }) | undefined {
    if (log.readChunk) {
      const chunk = log.readChunk(maxLines);
      return chunk && { body: chunk.body, count: chunk.count, next: chunk.next, lines: () => chunkLines(chunk.body) };
    }
    const read = log.read(maxLines);
    return read && { ...fromLines(read.lines), next: read.next };
  }

  /** One turn of the loop: wait for a batch's worth or its deadline, then send it. */
  async function step(): Promise<void> {
    wake = new AbortController();
    const backlog = log.backlog();
    if (backlog.lines === 0) {
      firstPendingAt = undefined;
      await pause(60_000);
      return;
    }
    firstPendingAt ??= deps.now() - backlog.oldestAgeMs;
    const waited = deps.now() - firstPendingAt;
    if (backlog.lines < deps.batchSize && waited < deps.flushMs) {
      await pause(deps.flushMs - waited);
      if (log.backlog().lines < deps.batchSize && deps.now() - firstPendingAt < deps.flushMs) return;
    }
    const batch = readBatch(deps.batchSize);
    if (!batch || batch.count === 0) {
      firstPendingAt = undefined;
      // The backlog says there are lines but none could be read: in the shipper thread, the
      // writer has dropped the segment under the cursor for the disk budget and its message
      // saying so is on its way. Returning at once would read again in a loop of microtasks
      // that never lets that message (or a stop) in: wait for it, or a while.
      await pause(Math.max(deps.flushMs, 50));
      return;
    }
    firstPendingAt = deps.now();
    if (await send(batch)) log.commit(batch.next);
  }

  return {
    start(): void {
      running ??= run().catch((error: unknown) => logger.error({ err: error }, 'shipper stopped on an unexpected error'));
    },

    /** Ship what is on disk until the backlog is empty or the deadline passes. */
    async drain(deadlineMs: number): Promise<boolean> {
      const until = deps.now() + deadlineMs;
      firstPendingAt = 0; // ship partial batches at once
      wake.abort();
      while (log.backlog().lines > 0 && deps.now() < until) {
        await deps.sleep(20, stop.signal).catch(() => undefined);
        firstPendingAt = 0;
      }
      return log.backlog().lines === 0;
    },

    async stop(): Promise<void> {
      stop.abort();
      unsubscribe();
      await running;
    },
  };
}

const backoffDelay = (deps: Pick<ShipperDeps, 'backoff' | 'random'>) => {
  const backoff = deps.backoff ?? { baseMs: 200, capMs: 30_000 };
  return (attempt: number): number => deps.random() * Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.min(attempt, 20));
};

/**
 * One batch to InfluxDB: until stored (or refused points isolated), retrying what may pass
 * later; resolves false when stopped first. Creates the database when it is missing.
 */
function createSender(deps: ShipperDeps, stopped: AbortSignal, delay: (attempt: number) => number) {
  const { influx, logger } = deps;
  let databaseReady = false;
  return async function send(batch: Batch): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      if (stopped.aborted && attempt > 0) return false;
      if (!databaseReady) {
        try {
          await influx.createDatabase();
          databaseReady = true;
        } catch (error) {
          deps.metrics.writeError('unreachable');
          deps.metrics.influxUp(false);
          logger.warn({ err: (error as Error).message, attempt }, 'InfluxDB not reachable; points stay on disk');
          await deps.sleep(delay(attempt), stopped).catch(() => undefined);
          continue;
        }
      }
      const started = deps.now();
      let outcome: WriteOutcome;
      try {
        outcome = await influx.write(batch.body);
      } catch (error) {
        outcome = { kind: 'retry', status: undefined, message: (error as Error).message }; // the batch is still on disk
      }
      deps.metrics.writeDuration((deps.now() - started) / 1000);
      switch (outcome.kind) {
        case 'ok':
          deps.metrics.influxUp(true);
          deps.metrics.pointsWritten(batch.count);
          deps.onStored?.(batch, deps.now());
          return true;
        case 'no_database':
          databaseReady = false;
          continue;
        case 'too_large':
        case 'refused':
          deps.metrics.influxUp(true);
          if (batch.count === 1) {
            deps.metrics.writeError('refused');
            deps.onRefused(batch.lines()[0]!, outcome.message);
            return true;
          }
          if (outcome.kind === 'refused') logger.warn({ message: outcome.message, points: batch.count }, 'InfluxDB refused points; isolating them');
          {
            const lines = batch.lines();
            const mid = Math.ceil(lines.length / 2);
            return (await send(fromLines(lines.slice(0, mid)))) && (await send(fromLines(lines.slice(mid))));
          }
        case 'retry':
          deps.metrics.influxUp(false);
          deps.metrics.writeError(outcome.status === undefined ? 'unreachable' : `http_${outcome.status}`);
          if (attempt === 0 || attempt % 10 === 0) logger.warn({ status: outcome.status, message: outcome.message, attempt }, 'InfluxDB write failed; retrying');
          await deps.sleep(delay(attempt), stopped).catch(() => undefined);
          continue;
      }
    }
  };
}
