import type { Logger } from '../lib/logger.ts';
import { isUnavailable } from '../registry/sql/unavailable.ts';
import type { AlertSignal } from '../contracts/alert.ts';
import type { SignalSpill } from './signal-spill.ts';

/** Why a signal left the queue without being applied: a newer one of its (kind, subject) was behind it, the queue was full of distinct ones, or the store refused it for good. */
export type SignalDropReason = 'repeat' | 'oldest' | 'refused';

export interface SignalQueueDeps {
  apply(signal: AlertSignal): Promise<unknown>;
  logger: Logger;
  /** Signals held at most (default 10,000: a city's worth of device_offline and its clears, ~2 MB). */
  capacity?: number;
  /** The wait before the first retry, doubled up to `retryMaxMs` (defaults 500 ms, 30 s). */
  retryMs?: number;
  retryMaxMs?: number;
  metrics?: { pending(n: number): void; dropped(reason: SignalDropReason): void };
  /**
   * The node's own disk for signals held while the store is away (health/signal-spill.ts):
   * what is held then is written there too, and what a previous run left there is applied
   * first. Absent: held in memory only (the store is the node's own SQLite).
   */
  spill?: SignalSpill;
}

/** A signal in the queue; `row` once it is on the spill's disk. */
interface Held {
  signal: AlertSignal;
  row?: number;
}

export type SignalQueue = ReturnType<typeof createSignalQueue>;

const keyOf = ({ signal: s }: Held): string => `${s.kind}|${s.subject}`;

/** The queue's side of the spill: each call guarded (a disk that fails leaves the signals in memory, logged). */
function onDisk(spill: SignalSpill | undefined, log: Logger) {
  const failed = (error: unknown) => log.error({ err: error }, 'held alert signals not kept on disk: held in memory only');
  return {
    keep(held: Held): void {
      if (!spill || held.row !== undefined) return;
      try {
        held.row = spill.save(held.signal);
      } catch (error) {
        failed(error);
      }
    },
    forget(held: Held): void {
      if (!spill || held.row === undefined) return;
      try {
        spill.remove(held.row);
      } catch (error) {
        failed(error);
      }
    },
    load(): Held[] {
      if (!spill) return [];
      try {
        const held = spill.load();
        if (held.length > 0) log.warn({ held: held.length }, 'alert signals held by the previous run: applied first');
        return held;
      } catch (error) {
        failed(error);
        return [];
      }
    },
  };
}

/**
 * The detectors' signals on their way to the alert service, in the order given, one at a time
 * (a clear before the raise that follows it). A signal the store cannot take now (PostgreSQL
 * away) stays at the head and is tried again with a doubling wait, so nothing behind it
 * overtakes it, and everything is applied in order once the store answers. The detectors
 * never wait on it: readings and their PUBACKs go on. Bounded: past `capacity`, the oldest
 * signal that a newer one of the same (kind, subject) follows is dropped first (the newer
 * states the condition as it is now), else the oldest of all; each drop is counted. With a
 * `spill`, the signals held while the store is away are on the node's disk as well, so a
 * restart during the outage applies them, in order, once the store answers again.
 */
export function createSignalQueue(deps: SignalQueueDeps) {
  const log = deps.logger.child({ module: 'health' });
  const capacity = deps.capacity ?? 10_000;
  const retryMs = deps.retryMs ?? 500;
  const retryMaxMs = deps.retryMaxMs ?? 30_000;
  const queue: Held[] = [];
  let draining: Promise<void> | undefined;
  /** The store is away: what is held now is written to the spill as well. */
  let failing = false;
  let stopping = false;
  let wake: (() => void) | undefined;
  const { keep, forget, load } = onDisk(deps.spill, log);
  /** The oldest signal at or after `from` that a newer one of its (kind, subject) follows; -1: none. */
  const oldestRepeat = (from: number): number => {
    const later = new Set<string>();
    let found = -1;
    for (let i = queue.length - 1; i >= from; i--) {
      const key = keyOf(queue[i]!);
      if (later.has(key)) found = i;
      later.add(key);
    }
    return found;
  };
  /** Never the head while it is being applied (index 0): a repeat further back, else the oldest after it. */
  const dropOne = (): void => {
    const from = draining ? 1 : 0;
    let i = oldestRepeat(from);
    const reason: SignalDropReason = i >= 0 ? 'repeat' : 'oldest';
    if (i < 0) i = from;
    const [dropped] = queue.splice(i, 1);
    forget(dropped!);
    deps.metrics?.dropped(reason);
    log.warn({ kind: dropped!.signal.kind, subject: dropped!.signal.subject, reason, capacity }, 'alert signal dropped: queue full');
  };

  const pause = (ms: number): Promise<void> => new Promise((resolve) => {
    const timer = setTimeout(() => { wake = undefined; resolve(); }, ms);
    wake = () => { clearTimeout(timer); wake = undefined; resolve(); };
  });

  async function drain(): Promise<void> {
    let wait = retryMs;
    while (queue.length > 0) {
      const head = queue[0]!;
      try {
        await deps.apply(head.signal);
      } catch (error) {
        if (!isUnavailable(error)) {
          log.error({ err: error, kind: head.signal.kind, subject: head.signal.subject }, 'alert signal refused');
          deps.metrics?.dropped('refused');
        } else {
          if (!failing) {
            log.error({ err: error, kind: head.signal.kind, subject: head.signal.subject, pending: queue.length }, 'alert store unavailable: signals held, retrying');
            failing = true;
            for (const held of queue) keep(held); // from now on each signal is on disk as it comes
          }
          if (stopping) return;
          await pause(wait);
          wait = Math.min(wait * 2, retryMaxMs);
          if (stopping) return;
          continue;
        }
      }
      if (failing) log.info({ pending: queue.length - 1 }, 'alert store back: held signals applied in order');
      failing = false;
      wait = retryMs;
      forget(head);
      if (queue[0] === head) queue.shift();
      deps.metrics?.pending(queue.length);
    }
  }

  const kick = (): void => {
    if (draining || stopping) return;
    draining = drain().finally(() => {
      draining = undefined;
      if (queue.length > 0 && !stopping) kick();
    });
  };

  queue.push(...load()); // what a previous run held when it ended (the store was away): first, in the order given
  const api = {
    push(signals: readonly AlertSignal[]): void {
      for (const signal of signals) {
        const held: Held = { signal };
        queue.push(held);
        if (failing) keep(held);
        if (queue.length > capacity) dropOne();
      }
      deps.metrics?.pending(queue.length);
      kick();
    },
    /** Signals not yet applied. */
    pending: (): number => queue.length,
    /** Resolves once every signal pushed so far is applied (or refused): tests, and a stop while the store answers. */
    async settled(): Promise<void> {
      while (draining) await draining;
    },
    /**
     * Stop retrying: the signal in flight finishes (its store's own timeouts bound it), the
     * rest are kept on the spill's disk for the next start, or without one logged as lost with
     * this process (the detectors start from the store's active alerts at the next start).
     */
    async stop(): Promise<void> {
      stopping = true;
      wake?.();
      await draining;
      if (queue.length > 0) {
        for (const held of queue) keep(held);
        log.error({ pending: queue.length, kept: deps.spill !== undefined }, deps.spill ? 'alert signals not applied at stop: kept on disk, applied at the next start' : 'alert signals not applied at stop: the alert store did not answer');
      }
    },
  };
  if (queue.length > 0) {
    deps.metrics?.pending(queue.length);
    kick();
  }
  return api;
}
