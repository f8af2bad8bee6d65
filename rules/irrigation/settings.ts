import { z } from 'zod';
import { DEFAULT_MOISTURE_BANDS, DEFAULT_SOIL_OFFSET, DEFAULT_MAX_RUN_S, DEFAULT_WATERING_WINDOWS, fao56Band, MoistureBand, SoilType, type ZoneConfig } from '../../contracts/zone.ts';
import { PlantType } from '../../contracts/device.ts';
import { offsetMs } from './water-balance.ts';

const seconds = z.number().min(0);

/**
 * The per-plant table with a per-soil shift (contracts/zone.ts): what a deployment that sets
 * only one of `bands` and `soilOffset` gets for the other. Not the default band any more: a
 * zone with no band of its own, in a deployment that sets neither, gets fao56Band.
 */
export const DEFAULT_BANDS = DEFAULT_MOISTURE_BANDS;
export { DEFAULT_SOIL_OFFSET };

const CycleSoak = z.object({ runS: z.number().positive(), soakS: seconds });

/** Every tunable of the irrigation rules; the defaults suit a 15-minute sensor interval. */
export const IrrigationSettings = z.object({
  /**
   * predictive (rules/irrigation/decide-predictive.ts): water in a window when the zone is
   * predicted to cross its low before the next one, a run sized to land inside the band.
   * threshold: start below the low (after the debounce), stop at the high or maxRunS.
   * Manual zones always raise watering_needed on the threshold.
   */
  controller: z.enum(['predictive', 'threshold']).default('predictive'),
  /** predictive: the run aims here, as a share of the band above its low (room left for rain), never above field capacity + 1. */
  targetShare: z.number().min(0.1).max(1).default(0.8),
  /** predictive: water when the moisture predicted a day ahead is below low + this (points). */
  marginPoints: z.number().min(0).default(1),
  /**
   * predictive: with at least this much rain (mm) forecast over the next 24 h, a run aims at the
   * low itself (no margin, no reserve): the rain fills the rest, into room under field capacity.
   */
  rainAimMm: z.number().min(0).default(1),
  /** predictive: longest run (summed cycles); a big zone with deep roots needs hours to refill. */
  maxPredictiveRunS: seconds.default(DEFAULT_MAX_RUN_S),
  /** predictive: the daily budget scales with the zone, at least dailyBudgetL. */
  dailyBudgetMm: z.number().min(0).default(25),
  /** zone_infeasible after this many days running on which runs that gave all they were allowed left the zone below its low. */
  infeasibleAfterDays: z.number().int().min(1).default(3),
  /** Zone moisture must stay below `low` this long before a start: one dry reading never opens a valve. */
  debounceS: seconds.default(30 * 60),
  /** Longest watering of one run (before the seasonal factor), summed over cycles. */
  maxRunS: seconds.default(30 * 60),
  /** Quiet time after a run ends before another may start (soil needs time to redistribute water). */
  minIntervalS: seconds.default(8 * 3600),
  /** Water a zone may use in any 24 h. */
  dailyBudgetL: z.number().min(0).default(2_000),
  /** Assumed flow when the valve reports none, to estimate volume (a typical 1" zone valve with sprays). */
  nominalFlowLpm: z.number().positive().default(20),
  /** Rain-gauge total over the lookback at or above which watering is skipped (or a run stopped). */
  rainLookbackH: z.number().positive().default(24),
  rainSkipMm: z.number().min(0).default(5),
  /** A posted forecast of at least this much rain skips watering while it is valid. */
  forecastSkipMm: z.number().min(0).default(5),
  /** At or below this soil/air temperature no watering (ice on paths, root damage); controllers' freeze sensors use ~3 °C. */
  freezeC: z.number().default(3),
  /** A sensor is stale after k × its report interval without a reading. */
  staleFactor: z.number().positive().default(3),
  /** A sensor repeating exactly the same reading (moisture and temperature) this many times in a row is stuck: 3 h at 15 min. */
  stuckCount: z.number().int().min(2).default(12),
  /**
   * Two sensors of a zone whose difference moves more than this many points from what it was
   * when they were first compared, for disagreeForS, disagree: one of them drifted
   * (sensor_disagreement). Two good probes in one bed differ by their calibration (±1–2 points)
   * and their noise (±0.3); a wetting front reaching one first is over within hours.
   */
  disagreePoints: z.number().positive().default(2),
  disagreeForS: seconds.default(12 * 3600),
  /** Plausible VWC for mineral soil; outside it a reading is a sensor fault (air, water, broken probe). */
  validRange: z.tuple([z.number(), z.number()]).default([1, 60]),
  /** A valve must ack a command within this, retried `ackRetries` times, else valve_no_ack. */
  ackTimeoutS: z.number().positive().default(30),
  ackRetries: z.number().int().min(0).default(2),
  /** Within this much watering time the moisture must rise by `effectMinRise` (or flow appear), else valve_no_effect. */
  effectTimeoutS: z.number().positive().default(20 * 60),
  effectMinRise: z.number().min(0).default(1),
  /** Extra seconds on top of the planned watering for the device-side auto-off (our close normally arrives first). */
  autoOffGraceS: seconds.default(120),
  /**
   * Cycle-and-soak: by default each zone's own, from its valve's application rate against its
   * soil's infiltration rate (water-balance.ts cycleSoakOf); a soil named here overrides it
   * (runS on, soakS off; null: never split).
   */
  cycleSoak: z.partialRecord(SoilType, CycleSoak.nullable()).default({}),
  /**
   * Multiplier of maxRunS per month (January first), the "seasonal adjust" of irrigation
   * controllers: evapotranspiration in a humid subtropical city peaks in July–August.
   */
  seasonalFactor: z.array(z.number().min(0).max(3)).length(12).default([0.5, 0.5, 0.7, 0.9, 1, 1.1, 1.3, 1.3, 1.1, 0.9, 0.7, 0.5]),
  /** Default watering windows (contracts/zone.ts): a minute is inside a window when a cron expression matches it. */
  windows: z.array(z.string()).default([...DEFAULT_WATERING_WINDOWS]),
  timezone: z.string().default('Asia/Shanghai'),
  /**
   * A deployment's own band table: the plant type's band shifted for the soil. Unset (both),
   * a zone with no band of its own gets its FAO-56 band (resolveBand); setting either keeps
   * the table, the other filled from DEFAULT_BANDS / DEFAULT_SOIL_OFFSET.
   */
  bands: z.record(PlantType, MoistureBand).optional(),
  soilOffset: z.record(SoilType, z.number()).optional(),
});
export type IrrigationSettings = z.infer<typeof IrrigationSettings>;

const OVERRIDABLE = IrrigationSettings.omit({ bands: true, soilOffset: true, windows: true, timezone: true }).shape;
type Overridable = typeof OVERRIDABLE;

/**
 * What an operator may override per zone (scalars only; band and windows are zone config).
 * Only what the operator named: the defaults are unwrapped, so overriding `debounceS` does
 * not pin every other setting to its built-in default over the deployment's configuration
 * (`.partial()` alone keeps the defaults and filled them all in).
 */
export const ZoneSettingsOverride = z.object(
  Object.fromEntries(Object.entries(OVERRIDABLE).map(([key, schema]) => [key, schema.unwrap().optional()])) as { [K in keyof Overridable]: z.ZodOptional<ReturnType<Overridable[K]['unwrap']>> },
);
export type ZoneSettingsOverride = z.infer<typeof ZoneSettingsOverride>;

export const defaultSettings = (overrides: Partial<IrrigationSettings> = {}): IrrigationSettings => IrrigationSettings.parse(overrides);

/** Where a zone's band comes from when it names none: the deployment's table, else FAO-56. */
export const usesBandTable = (settings: Pick<IrrigationSettings, 'bands' | 'soilOffset'>): boolean =>
  settings.bands !== undefined || settings.soilOffset !== undefined;

/**
 * The zone's band: its own, else the deployment's table (the plant type's band shifted for
 * the soil) when it sets one, else the FAO-56 band of its plant on its soil (contracts/zone.ts
 * fao56Band). The old table as a default gave a sand lawn 11–21 against a field capacity of
 * 12: a low sand drains below within hours, a high no sand holds.
 */
export function resolveBand(zone: Pick<ZoneConfig, 'plant' | 'soil' | 'band'>, settings: Pick<IrrigationSettings, 'bands' | 'soilOffset'>): MoistureBand {
  if (zone.band) return zone.band;
  if (!usesBandTable(settings)) return fao56Band(zone.plant, zone.soil);
  const base = (settings.bands ?? DEFAULT_BANDS)[zone.plant];
  const offset = (settings.soilOffset ?? DEFAULT_SOIL_OFFSET)[zone.soil] ?? 0;
  return { low: base.low + offset, high: base.high + offset };
}

/**
 * The seasonal factor for the month `now` falls in, in the deployment's time zone: the local
 * month from the zone's UTC offset (cached per hour), not an Intl format on every evaluation
 * (3 % of a season's evaluation, measured).
 */
export function seasonalFactorAt(now: number, settings: IrrigationSettings): number {
  const month = new Date(now + offsetMs(now, settings.timezone)).getUTCMonth() + 1;
  return settings.seasonalFactor[month - 1] ?? 1;
}
