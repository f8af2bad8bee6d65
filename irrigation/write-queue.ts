import type { Logger } from '../lib/logger.ts';

/**
 * The engine's writes to its store, one after the other in the order the decisions made
 * them. The store is async (registry/sql/port.ts); on PostgreSQL two writes started together
 * may run on two connections and commit in either order, so a zone's older state could land
 * after its newer one. Chained here, a state, a decision or a signal is written only after
 * every write queued before it has settled; the decider is never waited for.
 */
export function createWriteQueue(logger: Logger) {
  let tail: Promise<void> = Promise.resolve();
  const queue = {
    /** Queue a write whose failure is logged (with `what`) and does not stop the ones after it. */
    push(what: string, write: () => Promise<void>, context: Record<string, unknown> = {}): void {
      tail = tail.then(write).catch((error: unknown) => { logger.error({ err: error, write: what, ...context }, 'irrigation store write failed'); });
    },
    /** Queue a write the caller waits for and whose failure it receives (an operator's override). */
    run<T>(write: () => Promise<T>): Promise<T> {
      const done = tail.then(write);
      tail = done.then(() => undefined, () => undefined);
      return done;
    },
    /** Settles once every write queued so far has. */
    settled: (): Promise<void> => tail,
  };
  return queue;
}
export type WriteQueue = ReturnType<typeof createWriteQueue>;
