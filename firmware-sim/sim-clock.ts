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

/**
 * Simulated time running `accel` times faster than real time (1440: a day in a minute).
 * Device behaviour (report intervals, valve auto-off) lives in simulated time; network
 * behaviour (reconnect backoff, timeouts) stays in real time.
 *
 * `held`: time stands at `startMs` (and `after` only queues) until `release()`. A test that
 * shares this clock with the system under test holds it while devices connect, so the
 * seconds spent hashing secrets and opening sessions are not hours of simulated time.
 */
export function createSimClock(options: { startMs: number; accel: number; timers: Timers; endMs?: number; held?: boolean }) {
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
 * Where simulated time starts so that no reading lies in the future: an accelerated run
 * is a replay of the recent past that ends no later than the wall clock (the ingest refuses
 * timestamps more than a few minutes ahead).
 */
export function backfillStart(wallNow: number, durationSimMs: number, accel: number): number {
  return accel <= 1 ? wallNow : wallNow - durationSimMs + Math.floor(durationSimMs / accel);
}
