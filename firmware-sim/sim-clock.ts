import { createDeadlineQueue, type Deadline } from '../lib/deadline-queue.ts';

/** Real timers, injected so tests and the simulator's loops never reach for globals. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const h = setTimeout(fn, ms);
    h.unref?.();
    return h;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export type SimClock = ReturnType<typeof createSimClock>;

export interface SimClockOptions {
  startMs: number;
  accel: number;
  timers: Timers;
  endMs?: number;
  held?: boolean;
  /**
   * Stall-tolerant time: a pause of the process longer than this (real ms) counts as only
   * this much. At 4,320× a 200 ms stall of a loaded machine would otherwise be 15 simulated
   * minutes in which no device reported and every sensor went stale; with it, simulated
   * time slows down with the machine, and timers fire in simulated-time order. Unset: time
   * is a pure function of the wall clock.
   */
  maxStallMs?: number;
}

/**
 * Simulated time running `accel` times faster than real time (1440: a day in a minute).
 * Device behaviour (report intervals, valve auto-off) lives in simulated time; network
 * behaviour (reconnect backoff, timeouts) stays in real time.
 *
 * `held`: time stands at `startMs` (and `after` only queues) until `release()`. A test that
 * shares this clock with the system under test holds it while devices connect, so the
 * seconds spent hashing secrets and opening sessions are not hours of simulated time.
 */
export function createSimClock(options: SimClockOptions) {
  return options.maxStallMs === undefined ? wallClock(options) : stallTolerantClock(options, options.maxStallMs);
}

function wallClock(options: SimClockOptions) {
  const { accel, timers } = options;
  let realStart: number | undefined = options.held ? undefined : timers.now();
  const endMs = options.endMs ?? Number.POSITIVE_INFINITY;
  const queued = new Set<{ simMs: number; fire: () => void }>();
  const raw = (): number => (realStart === undefined ? options.startMs : options.startMs + Math.floor((timers.now() - realStart) * accel));
  const arm = (simMs: number, fn: () => void) => timers.setTimeout(fn, Math.max(0, simMs / accel));
  return {
    accel,
    /**
     * Sim time, held at the end of the run: at a high acceleration a few ms of timer slack
     * are minutes of sim time, which would put readings past the wall clock.
     */
    now: (): number => Math.min(endMs, raw()),
    ended: (): boolean => raw() >= endMs,
    /** Run fn after simMs of simulated time; returns a cancel function. */
    after(simMs: number, fn: () => void): () => void {
      if (realStart !== undefined) {
        const h = arm(simMs, fn);
        return () => timers.clearTimeout(h);
      }
      let h: unknown;
      const entry = { simMs, fire: () => { h = arm(simMs, fn); } };
      queued.add(entry);
      return () => {
        queued.delete(entry);
        if (h !== undefined) timers.clearTimeout(h);
      };
    },
    /** Start a held clock (no-op otherwise): from now on sim time runs. */
    release(): void {
      if (realStart !== undefined) return;
      realStart = timers.now();
      for (const entry of queued) entry.fire();
      queued.clear();
    },
  };
}

/**
 * Simulated time advanced by observations of the real clock (every read, and a tick every
 * few ms), each counting at most `maxStallMs`; timers are deadlines in simulated time,
 * fired in order by one real timer.
 */
function stallTolerantClock(options: SimClockOptions, maxStallMs: number) {
  const { accel, timers } = options;
  const endMs = options.endMs ?? Number.POSITIVE_INFINITY;
  const tickMs = Math.max(1, Math.min(5, maxStallMs / 2));
  let sim = options.startMs;
  let realLast: number | undefined = options.held ? undefined : timers.now();
  const due = createDeadlineQueue();
  const held = new Set<{ simMs: number; fn: () => void; entry?: Deadline }>();
  let pump: unknown;

  const observe = (): number => {
    if (realLast === undefined) return sim;
    const real = timers.now();
    sim += Math.min(Math.max(0, real - realLast), maxStallMs) * accel;
    realLast = real;
    return sim;
  };
  const schedule = (): void => {
    if (pump !== undefined) timers.clearTimeout(pump);
    pump = undefined;
    if (realLast === undefined || sim >= endMs) return;
    const next = due.nextAt();
    const wait = next === undefined ? tickMs : Math.min(tickMs, Math.max(0, (next - sim) / accel));
    pump = timers.setTimeout(run, wait);
  };
  function run(): void {
    pump = undefined;
    const now = observe();
    for (let e = due.takeDue(now); e; e = due.takeDue(now)) e.fn();
    schedule();
  }
  schedule(); // the tick that keeps time observed while nothing else reads it

  return {
    accel,
    now: (): number => Math.min(endMs, Math.floor(observe())),
    ended: (): boolean => observe() >= endMs,
    after(simMs: number, fn: () => void): () => void {
      if (realLast === undefined) {
        const waiting: { simMs: number; fn: () => void; entry?: Deadline } = { simMs, fn };
        held.add(waiting);
        return () => {
          held.delete(waiting);
          if (waiting.entry) waiting.entry.cancelled = true;
        };
      }
      const entry = due.add(observe() + simMs, fn);
      if (due.nextAt() === entry.at) schedule();
      return () => { entry.cancelled = true; };
    },
    release(): void {
      if (realLast !== undefined) return;
      realLast = timers.now();
      for (const waiting of held) waiting.entry = due.add(sim + waiting.simMs, waiting.fn);
      held.clear();
      schedule();
    },
  };
}

/**
 * Where simulated time starts so that no reading lies in the future: an accelerated run
 * is a replay of the recent past that ends no later than the wall clock (the ingest refuses
 * timestamps more than a few minutes ahead).
 */
export function backfillStart(wallNow: number, durationSimMs: number, accel: number): number {
  return accel <= 1 ? wallNow : wallNow - durationSimMs + Math.floor(durationSimMs / accel);
}
