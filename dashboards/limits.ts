import type { FacilityType, PlantType } from '../contracts/device.ts';

/**
 * The numbers dashboards draw as bands and lines. They mirror the rules' defaults
 * (irrigation target band per plant type, facility tilt warning/critical per facility
 * type); a zone's or facility's own override lives in the registry and InfluxDB does
 * not carry it, so a dashboard can only show the default for the plant or facility type.
 * When the rules export their defaults, import them here instead.
 */
export interface Band {
  low: number;
  high: number;
}

/** Volumetric water content (%) kept per plant type; `default` for soil without a plant tag. */
export const MOISTURE_BANDS: Record<PlantType | 'default', Band> = {
  trees: { low: 15, high: 30 },
  shrubs: { low: 18, high: 32 },
  hedge: { low: 18, high: 32 },
  ground_cover: { low: 20, high: 35 },
  lawn: { low: 22, high: 38 },
  default: { low: 20, high: 35 },
};

export interface TiltLimit {
  warning: number;
  critical: number;
}

/** Degrees from the install baseline: a pavilion tolerates far less than a trellis rope. */
export const TILT_LIMITS: Record<FacilityType, TiltLimit> = {
  pavilion: { warning: 2, critical: 5 },
  trellis_rope: { warning: 8, critical: 15 },
  planter_trough: { warning: 5, critical: 10 },
  fitness_equipment: { warning: 3, critical: 6 },
  bench: { warning: 5, critical: 10 },
  other: { warning: 5, critical: 10 },
};

/** A shock (g) above this is drawn as an impact. */
export const SHOCK_IMPACT_G = 2;

/** Battery (%) below which a device is flagged, and radio levels worth a look. */
export const BATTERY_LOW_PCT = 20;
export const RSSI_WEAK_DBM = -110;
