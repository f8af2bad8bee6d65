import { DEFAULT_MOISTURE_BANDS } from '../contracts/zone.ts';
import { DEFAULT_FACILITY_CONFIG } from '../rules/facility-health/thresholds.ts';
import type { FacilityType, PlantType } from '../contracts/device.ts';

/**
 * The numbers dashboards draw as bands and lines. They mirror the rules' defaults
 * (irrigation target band per plant type, facility tilt warning/critical per facility
 * type); a zone's or facility's own override lives in the registry and InfluxDB does
 * not carry it, so a dashboard can only show the default for the plant or facility type.
 * They are imported from the rules, so a dashboard line is where the rule fires.
 */
export interface Band {
  low: number;
  high: number;
}

/**
 * Volumetric water content (%) kept per plant type: the irrigation rules' loam defaults
 * (contracts/zone.ts); `default` for soil without a plant tag. Soil type and per-zone
 * overrides live in the registry, not in InfluxDB tags, so dashboards draw the defaults.
 */
export const MOISTURE_BANDS: Record<PlantType | 'default', Band> = { ...DEFAULT_MOISTURE_BANDS, default: DEFAULT_MOISTURE_BANDS.shrubs };

export interface TiltLimit {
  warning: number;
  critical: number;
}

/** Degrees from the install baseline, as the facility-health rules judge them. */
export const TILT_LIMITS: Record<FacilityType, TiltLimit> = Object.fromEntries(
  Object.entries(DEFAULT_FACILITY_CONFIG.byType).map(([type, t]) => [type, { warning: t.warningDeg, critical: t.criticalDeg }]),
) as Record<FacilityType, TiltLimit>;

/** A shock (g) above this is drawn as an impact. */
export const SHOCK_IMPACT_G = 2;

/** Battery (%) below which a device is flagged, and radio levels worth a look. */
export const BATTERY_LOW_PCT = 20;
export const RSSI_WEAK_DBM = -110;
