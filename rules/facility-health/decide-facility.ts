import type { AlertSignal, Severity } from '../../contracts/alert.ts';
import { addDriftSample, fitLine, type DriftSample } from './drift.ts';
import { impactMessage, settlementMessage, tiltClearedNote, tiltMessage } from './messages.ts';
import { thresholdsFor, type FacilityRuleConfig, type FacilityThresholds } from './thresholds.ts';

export type TiltLevel = 'normal' | 'warning' | 'critical';
const RANK: Record<TiltLevel, number> = { normal: 0, warning: 1, critical: 2 };
const DAY_MS = 86_400_000;

export interface Angles { pitch: number; roll: number }

export interface FacilityState {
  /** Recent readings while no baseline is known: the first stable run becomes the baseline. */
  learning: Angles[];
  previous: (Angles & { ts: number }) | undefined;
  /** The tilt level currently alerted, and the level the readings are moving to. */
  level: TiltLevel;
  candidate: TiltLevel;
  candidateCount: number;
  /** When the readings started asking for `candidate` (its hold is counted in readings and time). */
  candidateSince: number;
  drift: DriftSample[];
  settlementRaised: boolean;
}

export const initialFacilityState = (): FacilityState => ({
  learning: [], previous: undefined, level: 'normal', candidate: 'normal', candidateCount: 0, candidateSince: 0, drift: [], settlementRaised: false,
});

export interface FacilityContext {
  facilityId: string;
  facilityType: string | undefined;
  communityId: string | undefined;
  districtId: string | undefined;
  reportIntervalS: number;
  /** The calibrated (stored) baseline; undefined until calibrated or learned. */
  baseline: Angles | undefined;
  /**
   * This facility's effective thresholds (resolveThresholds: its type's with its own
   * inventory overrides); absent: its type's from the config.
   */
  thresholds?: FacilityThresholds;
}

export interface TiltInput extends Angles { ts: number; shock: number | undefined }

export interface FacilityDecision {
  state: FacilityState;
  signals: AlertSignal[];
  /** Set once when a stable baseline was learned: the edge stores it. */
  learnedBaseline?: Angles;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** The tilt level the deviation asks for, given the current level (hysteresis holds an active level). */
export function targetLevel(deviationDeg: number, current: TiltLevel, t: FacilityThresholds): TiltLevel {
  const raw: TiltLevel = deviationDeg >= t.criticalDeg ? 'critical' : deviationDeg >= t.warningDeg ? 'warning' : 'normal';
  const held: TiltLevel = current === 'critical' && deviationDeg >= t.criticalDeg - t.hysteresisDeg ? 'critical'
    : RANK[current] >= 1 && deviationDeg >= t.warningDeg - t.hysteresisDeg ? 'warning' : 'normal';
  return RANK[raw] >= RANK[held] ? raw : held;
}

/**
 * Facility health for one tilt reading: pure (state, reading, context, config) → (state, signals).
 * Tilt from baseline (debounced, with hysteresis), impact (sudden change or shock) and
 * settlement (a linear drift over days). Impact and settlement are never cleared here:
 * a damaged facility stays flagged until its work order is closed (the alert service's rule).
 */
export function decideFacility(state: FacilityState, reading: TiltInput, ctx: FacilityContext, config: FacilityRuleConfig): FacilityDecision {
  // A store-and-forward replay older than what was already judged changes nothing: its
  // moment has passed, and comparing it with a newer reading would invent a jump.
  if (state.previous && reading.ts < state.previous.ts) return { state, signals: [] };
  const t = ctx.thresholds ?? thresholdsFor(config, ctx.facilityType);
  const signals: AlertSignal[] = [];
  const base = { subject: ctx.facilityId, communityId: ctx.communityId, districtId: ctx.districtId, at: reading.ts };
  let next: FacilityState = { ...state, previous: { pitch: reading.pitch, roll: reading.roll, ts: reading.ts } };
  let learnedBaseline: Angles | undefined;

  // Impact: a jump between consecutive readings (close enough in time to be consecutive) or a shock.
  const prev = state.previous;
  const gapOk = prev !== undefined && reading.ts > prev.ts && reading.ts - prev.ts <= config.impactGapIntervals * ctx.reportIntervalS * 1000;
  const delta = prev && gapOk ? Math.hypot(reading.pitch - prev.pitch, reading.roll - prev.roll) : 0;
  const shock = reading.shock ?? 0;
  if (delta >= t.impactDeltaDeg || shock >= t.shockG) {
    const severe = delta >= 2 * t.impactDeltaDeg || shock >= 2 * t.shockG;
    signals.push({
      action: 'raise', kind: 'facility_impact', severity: severe ? 'critical' : 'warning', ...base,
      message: impactMessage(ctx, delta, shock),
      details: { deltaDeg: round2(delta), shockG: shock, pitch: reading.pitch, roll: reading.roll, impactDeltaDeg: t.impactDeltaDeg, shockThresholdG: t.shockG },
    });
    // A step is not a drift: start the settlement fit afresh after it.
    next = { ...next, drift: [] };
  }

  let baseline = ctx.baseline;
  if (!baseline) {
    const learning = [...state.learning, { pitch: reading.pitch, roll: reading.roll }].slice(-config.baselineReadings);
    next = { ...next, learning };
    if (learning.length === config.baselineReadings && spread(learning) <= config.baselineSpreadDeg) {
      baseline = learnedBaseline = mean(learning);
      next = { ...next, learning: [] };
    } else {
      return { state: next, signals };
    }
  }

  const deviation = Math.hypot(reading.pitch - baseline.pitch, reading.roll - baseline.roll);
  const details = { tiltDeg: round2(deviation), pitch: reading.pitch, roll: reading.roll, baselinePitch: baseline.pitch, baselineRoll: baseline.roll, warningDeg: t.warningDeg, criticalDeg: t.criticalDeg };

  // Tilt level: debounced both ways (N readings spanning k report intervals, so a sensor that
  // floods cannot rush it), with hysteresis.
  const target = targetLevel(deviation, next.level, t);
  if (target === next.level) {
    next = { ...next, candidate: target, candidateCount: 0 };
  } else {
    const same = target === next.candidate && next.candidateCount > 0;
    const count = same ? next.candidateCount + 1 : 1;
    const since = same ? next.candidateSince : reading.ts;
    next = { ...next, candidate: target, candidateCount: count, candidateSince: since };
    if (count >= config.debounceReadings && reading.ts - since >= config.debounceIntervals * ctx.reportIntervalS * 1000) {
      next = { ...next, level: target, candidateCount: 0 };
      if (target === 'normal') {
        signals.push({ action: 'clear', kind: 'facility_tilt', subject: ctx.facilityId, at: reading.ts, reason: tiltClearedNote(deviation) });
      } else {
        signals.push({
          action: 'raise', kind: 'facility_tilt', severity: target as Severity, ...base, details,
          message: tiltMessage(ctx, deviation, target, target === 'critical' ? t.criticalDeg : t.warningDeg),
        });
      }
    }
  }

  // Settlement: a steady rise of the deviation over days, fitted by least squares.
  const drift = addDriftSample(next.drift, { at: reading.ts, value: deviation }, config.driftBucketMs, config.driftWindowMs);
  next = { ...next, drift };
  const fit = fitLine(drift);
  if (!next.settlementRaised && fit && fit.spanMs >= config.driftMinSpanMs && fit.r2 >= config.driftMinR2 && fit.slope * DAY_MS >= t.settlementDegPerDay) {
    next = { ...next, settlementRaised: true };
    const perDay = round2(fit.slope * DAY_MS);
    signals.push({
      action: 'raise', kind: 'facility_settlement', severity: deviation >= t.criticalDeg ? 'critical' : 'warning', ...base,
      message: settlementMessage(ctx, perDay, fit.spanMs / DAY_MS, deviation),
      details: { ...details, degPerDay: perDay, r2: round2(fit.r2), days: round2(fit.spanMs / DAY_MS) },
    });
  }
  return learnedBaseline ? { state: next, signals, learnedBaseline } : { state: next, signals };
}

function spread(samples: Angles[]): number {
  const p = samples.map((s) => s.pitch), r = samples.map((s) => s.roll);
  return Math.max(Math.max(...p) - Math.min(...p), Math.max(...r) - Math.min(...r));
}

function mean(samples: Angles[]): Angles {
  const n = samples.length;
  return { pitch: round2(samples.reduce((a, s) => a + s.pitch, 0) / n), roll: round2(samples.reduce((a, s) => a + s.roll, 0) / n) };
}
