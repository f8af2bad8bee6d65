import { createDeadlineQueue, type Deadline } from '../lib/deadline-queue.ts';

/**
 * Simulated time for an in-process evaluation: a queue of (time, callback) run in time
 * order, and the timers the irrigation engine takes (`set`, `clear`, `defer`) on top of it.
 * Nothing waits on the wall clock, so a season takes as long as its work.
 */
export function createEventQueue(startMs: number) {
  const queue = createDeadlineQueue();
  let now = startMs;
  const at = (t: number, fn: () => void): Deadline => queue.add(Math.max(t, now), fn);

  return {
    now: (): number => now,
    at,
    /** Run everything due up to `until` in time order; the clock ends at `until`. */
    runUntil(until: number): void {
      for (let e = queue.takeDue(until); e; e = queue.takeDue(until)) {
        now = e.at;
        e.fn();
      }
      now = until;
    },
    timers: {
      set: (fn: () => void, ms: number): unknown => at(now + ms, fn),
      clear: (handle: unknown): void => { (handle as Deadline).cancelled = true; },
      defer: (fn: () => void): void => { at(now, fn); },
    },
  };
}
export type EventQueue = ReturnType<typeof createEventQueue>;
