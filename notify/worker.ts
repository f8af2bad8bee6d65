import { performance } from 'node:perf_hooks';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Random } from '../lib/random.ts';
import type { NotifyConfig } from './config.ts';
import type { SendToChannel } from './channels/index.ts';
import type { ClaimedRow, Outbox } from './outbox.ts';
import type { NotifyMetrics } from './metrics.ts';
import { backoffMs } from './policy.ts';

export interface WorkerDeps {
  outbox: Outbox;
  send: SendToChannel;
  clock: Clock;
  random: Random;
  logger: Logger;
  metrics?: NotifyMetrics;
  delivery: NotifyConfig['delivery'];
}

export type OutboxWorker = ReturnType<typeof createOutboxWorker>;

/**
 * Works the outbox on its own loop: at most `concurrency` sends in flight, each bounded
 * by a timeout, failures retried with exponential backoff and jitter until
 * `maxAttempts`. Nothing here runs on the ingest path; a dead endpoint only costs
 * its own slot for `timeoutMs`.
 */
export function createOutboxWorker(deps: WorkerDeps) {
  const { outbox, delivery, logger } = deps;
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  async function deliver(row: ClaimedRow): Promise<void> {
    const labels = { channel_type: row.channel.type, channel: row.channelKey };
    const started = performance.now();
    let result;
    try {
      result = await deps.send(row.channel, row.delivery, { now: deps.clock.now(), timeoutMs: delivery.timeoutMs });
    } catch (error) {
      result = { ok: false as const, error: `sender threw: ${(error as Error).message}` };
    }
    deps.metrics?.duration.observe({ channel_type: row.channel.type }, (performance.now() - started) / 1000);
    if (result.ok) {
      outbox.markSent(row.id, deps.clock.now());
      deps.metrics?.sent.inc(labels);
      logger.debug({ id: row.id, channel: row.channelKey }, 'notification sent');
      return;
    }
    deps.metrics?.failures.inc(labels);
    const attempt = row.attempts + 1;
    if (attempt >= delivery.maxAttempts) {
      outbox.markFailed(row.id, result.error);
      deps.metrics?.gaveUp.inc(labels);
      logger.error({ id: row.id, channel: row.channelKey, attempts: attempt, error: result.error }, 'notification abandoned after the last retry');
      return;
    }
    const delay = backoffMs(attempt, delivery.backoffBaseMs, delivery.backoffMaxMs, deps.random);
    outbox.markRetry(row.id, result.error, deps.clock.now() + delay);
    logger.warn({ id: row.id, channel: row.channelKey, attempt, retryInMs: delay, error: result.error }, 'notification delivery failed; will retry');
  }

  /** Claim what is due and free slots allow; resolves when those sends have settled. */
  function tick(): Promise<void> {
    const free = delivery.concurrency - inFlight.size;
    if (free <= 0) return Promise.resolve();
    const rows = outbox.claimDue(deps.clock.now(), free);
    const started = rows.map((row) => {
      const p = deliver(row).catch((error: unknown) => logger.error({ err: error, id: row.id }, 'outbox bookkeeping failed'))
        .finally(() => { inFlight.delete(p); if (running) schedule(0); });
      inFlight.add(p);
      return p;
    });
    return Promise.all(started).then(() => undefined);
  }

  function schedule(ms: number): void {
    if (!running) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      try {
        void tick();
      } catch (error) {
        logger.error({ err: error }, 'outbox tick failed');
      }
      schedule(delivery.pollMs);
    }, ms);
    timer.unref();
  }

  return {
    tick,
    start(): void {
      const recovered = outbox.recoverInFlight();
      if (recovered > 0) logger.warn({ recovered }, 'notifications interrupted by a restart are queued again');
      running = true;
      schedule(0);
    },
    /** Wake the loop now (a message was just queued). */
    kick: () => schedule(0),
    /** Stop claiming; wait up to `graceMs` for sends in flight (the rest are retried after restart). */
    async stop(graceMs = 2_000): Promise<void> {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(inFlight), new Promise((r) => { grace = setTimeout(r, graceMs); })]);
      clearTimeout(grace);
    },
  };
}
