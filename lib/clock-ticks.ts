import type { Logger } from './logger.ts';

/** Run fn after ms of some clock's time, returning a cancel: a simulated clock's `after`. */
export type After = (ms: number, fn: () => void) => () => void;

/**
 * A tick every `periodMs` of another clock's time: what node-cron's every-minute job is on
 * the wall clock, for a run on a simulated clock. A throw is logged and the ticks go on.
 */
export function startClockTicks(after: After, periodMs: number, tick: () => void, logger: Logger, name = 'clock-tick'): { stop(): void } {
  let cancel: (() => void) | undefined;
  let stopped = false;
  const next = (): void => {
    cancel = after(periodMs, () => {
      if (stopped) return;
      try {
        tick();
      } catch (error) {
        logger.error({ err: error, task: name }, 'task failed');
      }
      next();
    });
  };
  next();
  return {
    stop(): void {
      stopped = true;
      cancel?.();
    },
  };
}

/** One-shot timers ({set, clear}, as the irrigation engine takes them) on that clock. */
export const timersOn = (after: After) => ({
  set: (fn: () => void, ms: number): unknown => after(ms, fn),
  clear: (handle: unknown): void => (handle as () => void)(),
});
