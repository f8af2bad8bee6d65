/**
 * A condition debounced both ways, the way Prometheus/Grafana alert rules are: it must be
 * seen for a while before the alert fires (`for`, Grafana's "pending period") and must be
 * gone for a while before it clears (`keep_firing_for`). Both waits count readings AND
 * time, because readings alone mean nothing for a device that floods (a broken firmware
 * publishing every few ms) and time alone means nothing for one that reports once an hour.
 *
 * Unlike a plain "N in a row", a pending or firing episode survives good readings between
 * bad ones: it ends only once the condition stayed away for the whole clear wait. So a
 * sensor that keeps swinging in and out of its limits is one episode (one alert, kept),
 * not an alert per swing; and an isolated outlier never reaches the raise count.
 */
export interface HoldConfig {
  /** Readings with the condition present in one episode before it fires... */
  raiseReadings: number;
  /** ...and the least time from the episode's first such reading. */
  raiseForMs: number;
  /** Readings without the condition, after the last one with it, before it clears... */
  clearReadings: number;
  /** ...and the least time since the last reading with it. */
  clearForMs: number;
}

export type HoldPhase = 'ok' | 'pending' | 'firing';

export interface HoldState {
  phase: HoldPhase;
  /** First reading of the episode with the condition present. */
  since: number;
  /** Readings with the condition in this episode. */
  hits: number;
  /** Last reading with the condition. */
  lastHit: number;
  /** Readings without it since lastHit. */
  misses: number;
}

export const initialHold = (): HoldState => ({ phase: 'ok', since: 0, hits: 0, lastHit: 0, misses: 0 });

/** A hold seeded as firing (after a restart, from an alert still active in SQLite). */
export const firingHold = (at: number): HoldState => ({ phase: 'firing', since: at, hits: 1, lastHit: at, misses: 0 });

export interface HoldStep {
  state: HoldState;
  /** The episode just started firing. */
  fired: boolean;
  /** The firing episode just ended. */
  cleared: boolean;
}

/** Fold one reading at `at` (present: the condition holds for it) into the hold. Pure. */
export function stepHold(state: HoldState, present: boolean, at: number, cfg: HoldConfig): HoldStep {
  if (present) {
    const fresh = state.phase === 'ok';
    const next: HoldState = fresh
      ? { phase: 'pending', since: at, hits: 1, lastHit: at, misses: 0 }
      : { ...state, hits: state.hits + 1, lastHit: Math.max(state.lastHit, at), misses: 0 };
    if (next.phase === 'pending' && next.hits >= cfg.raiseReadings && at - next.since >= cfg.raiseForMs) {
      return { state: { ...next, phase: 'firing' }, fired: true, cleared: false };
    }
    return { state: next, fired: false, cleared: false };
  }
  if (state.phase === 'ok') return { state, fired: false, cleared: false };
  const next: HoldState = { ...state, misses: state.misses + 1 };
  if (next.misses >= cfg.clearReadings && at - next.lastHit >= cfg.clearForMs) {
    return { state: initialHold(), fired: false, cleared: state.phase === 'firing' };
  }
  return { state: next, fired: false, cleared: false };
}

/** A hold whose waits are counted in the device's own report intervals (so they fit every cadence). */
export interface HoldSpec {
  raiseReadings: number;
  raiseForIntervals: number;
  clearReadings: number;
  clearForIntervals: number;
}

export const holdFor = (spec: HoldSpec, reportIntervalS: number): HoldConfig => ({
  raiseReadings: spec.raiseReadings,
  raiseForMs: spec.raiseForIntervals * reportIntervalS * 1000,
  clearReadings: spec.clearReadings,
  clearForMs: spec.clearForIntervals * reportIntervalS * 1000,
});
