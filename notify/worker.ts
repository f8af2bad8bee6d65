import { performance } from 'node:perf_hooks';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Random } from '../lib/random.ts';
import type { NotifyConfig } from './config.ts';
import type { SendToChannel } from './channels/index.ts';
import type { ClaimedRow, Outbox } from './outbox.ts';
import type { NotifyMetrics } from './metrics.ts';
import { backoffMs } from './policy.ts';
import { createFailureSpell } from '../lib/failure-spell.ts';

export interface WorkerDeps {
  outbox: Outbox;
  send: SendToChannel;
  clock: Clock;
  random: Random;
  logger: Logger;
  metrics?: NotifyMetrics;
  delivery: NotifyConfig['delivery'];
  /** This worker's name in the rows it claims (a node: unique in the cluster). */
  claimant: string;
  /** How long a claim holds a row: longer than a send may take (its timeout), so only a dead or hung worker's claim expires. */
  claimMs: number;
}

export type OutboxWorker = ReturnType<typeof createOutboxWorker>;

/**
 * Works the outbox on its own loop (one per node; on a shared PostgreSQL each row is claimed by
 * one worker at a time, outbox.ts claimDue): at most `concurrency` sends in flight, each bounded
 * by a timeout, failures retried with exponential backoff and jitter until
 * `maxAttempts`. Nothing here runs on the ingest path; a dead endpoint only costs
 * its own slot for `timeoutMs`.
 */
export function createOutboxWorker(deps: WorkerDeps) {
  const { outbox, delivery, logger } = deps;
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let reserved = 0;
  // Claims sent to the store and not answered yet: stop waits for them, then hands their rows back.
  const claiming = new Set<Promise<unknown>>();
  let stopped = false;
  const spell = createFailureSpell(logger, 'outbox tick failed (repeats logged at debug until it works again)', 'outbox ticks work again');

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
      await outbox.markSent(row.id, deps.clock.now(), deps.claimant);
      deps.metrics?.sent.inc(labels);
      logger.debug({ id: row.id, channel: row.channelKey }, 'notification sent');
      return;
    }
    deps.metrics?.failures.inc(labels);
    const attempt = row.attempts + 1;
    if (attempt >= delivery.maxAttempts) {
      await outbox.markFailed(row.id, result.error, deps.claimant);
      deps.metrics?.gaveUp.inc(labels);
      logger.error({ id: row.id, channel: row.channelKey, attempts: attempt, error: result.error }, 'notification abandoned after the last retry');
      return;
    }
    const delay = backoffMs(attempt, delivery.backoffBaseMs, delivery.backoffMaxMs, deps.random);
    await outbox.markRetry(row.id, result.error, deps.clock.now() + delay, deps.claimant);
    logger.warn({ id: row.id, channel: row.channelKey, attempt, retryInMs: delay, error: result.error }, 'notification delivery failed; will retry');
  }

  /** Claim what is due and free slots allow; resolves when those sends have settled. */
  async function tick(): Promise<void> {
    // Slots reserved by a claim still on its way: ticks overlap now that a claim awaits the store.
    const free = delivery.concurrency - inFlight.size - reserved;
    if (free <= 0) return;
    const now = deps.clock.now();
    reserved += free;
    let rows: ClaimedRow[];
    const claim = outbox.claimDue(now, free, { by: deps.claimant, untilMs: now + deps.claimMs });
    claiming.add(claim);
    try {
      rows = await claim;
    } finally {
      reserved -= free;
      claiming.delete(claim);
    }
    // Stopped while the claim was on its way: send nothing (stop hands the rows back; past its grace, here).
    if (stopped) {
      if (rows.length > 0) await outbox.release(deps.claimant);
      return;
    }
    const started = rows.map((row) => {
      const p = deliver(row).catch((error: unknown) => logger.error({ err: error, id: row.id }, 'outbox bookkeeping failed'))
        .finally(() => { inFlight.delete(p); if (running) schedule(0); });
      inFlight.add(p);
      return p;
    });
    await Promise.all(started);
  }

  function schedule(ms: number): void {
    if (!running) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      tick().then(() => spell.succeeded(), (error: unknown) => spell.failed(error));
      schedule(delivery.pollMs);
    }, ms);
    timer.unref();
  }

  return {
    tick,
    async start(): Promise<void> {
      const recovered = await outbox.recoverInFlight();
      if (recovered > 0) logger.warn({ recovered }, 'notifications interrupted by a restart are queued again');
      stopped = false;
      running = true;
      schedule(0);
    },
    /** Wake the loop now (a message was just queued). */
    kick: () => schedule(0),
    /**
     * Stop claiming; wait up to `graceMs` for sends in flight, then hand back the rows still
     * claimed (sent again by whichever worker claims them next: at least once).
     */
    async stop(graceMs = 2_000): Promise<void> {
      running = false;
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      let grace: NodeJS.Timeout | undefined;
      const settled = (async () => {
        await Promise.allSettled(claiming);
        await Promise.all(inFlight);
      })();
      await Promise.race([settled, new Promise((r) => { grace = setTimeout(r, graceMs); })]);
      clearTimeout(grace);
      try {
        const released = await outbox.release(deps.claimant);
        if (released > 0) logger.warn({ released }, 'notifications still being sent at stop are queued again');
      } catch (error) {
        logger.warn({ err: error }, 'claims not handed back at stop; they are taken again once they expire');
      }
    },
  };
}
