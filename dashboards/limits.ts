import { fao56Band } from '../contracts/zone.ts';
import { DEFAULT_FACILITY_CONFIG, type FacilityRuleConfig } from '../rules/facility-health/thresholds.ts';
import { PLANT_TYPES, type FacilityType, type PlantType } from '../contracts/device.ts';

/**
 * The numbers dashboards draw as bands and lines. They mirror the rules' defaults
 * (irrigation target band per plant type, facility tilt warning/critical per facility
 * type, or the deployment's GS_RULES_CONFIG angles); a zone's or facility's own override
 * lives in the registry and InfluxDB does not carry it, so a dashboard shows the plant's
 * or facility type's.
 * They are imported from the rules, so a dashboard line is where the rule fires.
 */
export interface Band {
  low: number;
  high: number;
}

/**
 * Volumetric water content (%) kept per plant type: the irrigation rules' default band on
 * loam (FAO-56, contracts/zone.ts fao56Band); `default` for soil without a plant tag. Soil
 * type and per-zone overrides live in the registry, not in InfluxDB tags, so dashboards draw
 * the loam defaults.
 */
export const MOISTURE_BANDS: Record<PlantType | 'default', Band> = {
  ...(Object.fromEntries(PLANT_TYPES.map((p) => [p, fao56Band(p, 'loam')])) as Record<PlantType, Band>),
  default: fao56Band('shrubs', 'loam'),
};

export interface TiltLimit {
  warning: number;
  critical: number;
}

export type TiltLimits = Record<FacilityType, TiltLimit>;

/** Degrees from the install baseline per facility type, as rules with this config judge them. */
export const tiltLimitsOf = (config: FacilityRuleConfig): TiltLimits => Object.fromEntries(
  Object.entries(config.byType).map(([type, t]) => [type, { warning: t.warningDeg, critical: t.criticalDeg }]),
) as TiltLimits;

/** The rules' defaults; `npm run dashboards` draws GS_RULES_CONFIG's angles instead when it is set. */
export const TILT_LIMITS: TiltLimits = tiltLimitsOf(DEFAULT_FACILITY_CONFIG);

/** What a deployment changes in the generated dashboards. */
export interface BoardOptions {
  tiltLimits: TiltLimits;
}

export const DEFAULT_BOARD_OPTIONS: BoardOptions = { tiltLimits: TILT_LIMITS };

/** A shock (g) above this is drawn as an impact. */
export const SHOCK_IMPACT_G = 2;

/** Battery (%) below which a device is flagged, and radio levels worth a look. */
export const BATTERY_LOW_PCT = 20;
export const RSSI_WEAK_DBM = -110;
