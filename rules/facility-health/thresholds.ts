import type { FacilityType } from '../../contracts/device.ts';

/**
 * Tilt limits per facility type, in degrees from the facility's baseline.
 *
 * Why these numbers: a wooden pavilion (凉亭) is a roofed structure people stand under;
 * a post leaning 2° is already visible to an inspector and 5° is a structural concern,
 * so it gets the tightest limits. Fitness equipment and benches are bolted to a footing
 * and used with force: a few degrees is a loosened anchor. Planter troughs sit on soil
 * and settle a little. Trellis / traction ropes (牵引绳) sway with wind and plant load, so
 * only large angles mean a broken anchor. Operators can override any value per deployment.
 */
export interface FacilityThresholds {
  /** |tilt from baseline| at or above this for `debounceReadings` readings → warning. */
  warningDeg: number;
  /** ... at or above this → critical. */
  criticalDeg: number;
  /** An active tilt level clears only once the angle falls below (level − hysteresisDeg). */
  hysteresisDeg: number;
  /** Change between two consecutive readings at or above this → impact. */
  impactDeltaDeg: number;
  /** A reported shock at or above this (g) → impact. */
  shockG: number;
  /** Fitted drift at or above this (degrees per day) over the drift window → settlement. */
  settlementDegPerDay: number;
}

export interface FacilityRuleConfig {
  byType: Record<FacilityType, FacilityThresholds>;
  /** Consecutive readings a tilt level must hold before it fires, and before it clears. */
  debounceReadings: number;
  /** ...and the least time they must span, in the device's report intervals. */
  debounceIntervals: number;
  /** First stable readings used to learn a baseline when none was calibrated. */
  baselineReadings: number;
  /** Largest pitch/roll spread among those readings for them to count as stable. */
  baselineSpreadDeg: number;
  /** Two readings further apart than this (× the device's report interval) are not "consecutive" for impact. */
  impactGapIntervals: number;
  /** Drift: samples kept (one per bucket), window, and the least span before a fit is trusted. */
  driftBucketMs: number;
  driftWindowMs: number;
  driftMinSpanMs: number;
  /** Least coefficient of determination of the linear fit: noise must not look like drift. */
  driftMinR2: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const DEFAULT_FACILITY_CONFIG: FacilityRuleConfig = {
  byType: {
    pavilion: { warningDeg: 2, criticalDeg: 5, hysteresisDeg: 0.5, impactDeltaDeg: 2, shockG: 2, settlementDegPerDay: 0.2 },
    fitness_equipment: { warningDeg: 3, criticalDeg: 6, hysteresisDeg: 0.5, impactDeltaDeg: 3, shockG: 4, settlementDegPerDay: 0.3 },
    bench: { warningDeg: 5, criticalDeg: 10, hysteresisDeg: 1, impactDeltaDeg: 4, shockG: 4, settlementDegPerDay: 0.5 },
    planter_trough: { warningDeg: 5, criticalDeg: 10, hysteresisDeg: 1, impactDeltaDeg: 4, shockG: 3, settlementDegPerDay: 0.5 },
    trellis_rope: { warningDeg: 10, criticalDeg: 20, hysteresisDeg: 2, impactDeltaDeg: 8, shockG: 6, settlementDegPerDay: 1 },
    other: { warningDeg: 5, criticalDeg: 10, hysteresisDeg: 1, impactDeltaDeg: 4, shockG: 4, settlementDegPerDay: 0.5 },
  },
  debounceReadings: 3,
  debounceIntervals: 2,
  baselineReadings: 5,
  baselineSpreadDeg: 0.5,
  impactGapIntervals: 3,
  driftBucketMs: HOUR,
  driftWindowMs: 7 * DAY,
  driftMinSpanMs: 3 * DAY,
  driftMinR2: 0.6,
};

export function thresholdsFor(config: FacilityRuleConfig, type: string | undefined): FacilityThresholds {
  return config.byType[(type ?? 'other') as FacilityType] ?? config.byType.other;
}

/** A facility's own tilt angles (the inventory's `thresholds`), in place of its type's. */
export type TiltOverride = Pick<FacilityThresholds, 'warningDeg' | 'criticalDeg'>;

/**
 * One facility's effective thresholds: its type's (the deployment's defaults), with its own
 * warning/critical angles where the inventory gives them. Impact, shock and settlement stay
 * the type's: the inventory overrides only the two angles.
 *
 * The hysteresis is capped at half the overridden warning angle. A pavilion's 0.5° band
 * under an override of 0.4° would put the clear point below zero: a warning that could
 * never clear by itself.
 */
export function resolveThresholds(config: FacilityRuleConfig, type: string | undefined, override: TiltOverride | undefined): FacilityThresholds {
  const base = thresholdsFor(config, type);
  if (!override) return base;
  return { ...base, warningDeg: override.warningDeg, criticalDeg: override.criticalDeg, hysteresisDeg: Math.min(base.hysteresisDeg, override.warningDeg / 2) };
}
