import type { DeviceKind, FieldKey } from '../../contracts/reading.ts';
import type { HoldSpec } from './hold.ts';

/**
 * Device-health limits. Defaults, with where they come from:
 * - offline after 3 missed reports: one lost LoRa uplink or a late report is normal radio
 *   life; three in a row is not.
 * - battery 20 % warning / 10 % critical, cleared at 25 %: typical lithium-thionyl cells hold
 *   their voltage until late, so 20 % leaves weeks for a visit; 5 points of hysteresis keep
 *   a battery hovering at the limit (temperature swings) from flapping.
 * - stuck: 12 identical values spanning at least 6 h. Real soil moisture and tilt sensors
 *   carry noise in the last digit; an exactly repeated value for hours is a frozen sensor.
 * - plausible ranges are a softer notion than the physical ranges the ingest enforces
 *   (contracts/reading.ts KIND_FIELDS: 0..100 % VWC, −40..80 °C; outside them a reading is
 *   refused and dead-lettered before the rules see it). A plausible range says "a working
 *   probe in a green bed does not read this": below 1 % VWC is a probe in the air, above
 *   60 % is standing water or a shorted probe (mineral soil saturates around 40–55 %). These
 *   are the same limits the irrigation rules use to leave a sensor out of the zone median
 *   (rules/irrigation/settings.ts `validRange`), so a sensor excluded there is the one
 *   flagged here. Soil below −25 °C or above 60 °C is a fault too.
 * - clock skew: 2 minutes, cleared below half that.
 *
 * Every detector that fires and clears does it through a hold (hold.ts): present for N
 * readings spanning k report intervals before it fires, absent for M readings and j
 * intervals before it clears. Defaults: fire after 3 readings over ≥ 2 intervals (30 min
 * for a 15-minute sensor), clear after 3 good readings over ≥ 4 intervals (1 h), so a
 * sensor swinging in and out of its limits stays one alert.
 */
export interface DeviceHealthConfig {
  offlineAfterIntervals: number;
  batteryWarnPct: number;
  batteryCriticalPct: number;
  batteryClearPct: number;
  battery: HoldSpec;
  stuckReadings: number;
  stuckMinSpanMs: number;
  /** The field whose value is watched for "stuck", per kind. */
  stuckFields: Partial<Record<DeviceKind, FieldKey[]>>;
  /** Only the clear side is used: "stuck" has its own raise rule (stuckReadings over stuckMinSpanMs). */
  stuckClear: Pick<HoldSpec, 'clearReadings' | 'clearForIntervals'>;
  plausible: Partial<Record<DeviceKind, Partial<Record<FieldKey, [number, number]>>>>;
  implausible: HoldSpec;
  skewToleranceMs: number;
  skew: HoldSpec;
}

const HOLD: HoldSpec = { raiseReadings: 3, raiseForIntervals: 2, clearReadings: 3, clearForIntervals: 4 };

export const DEFAULT_DEVICE_HEALTH_CONFIG: DeviceHealthConfig = {
  offlineAfterIntervals: 3,
  batteryWarnPct: 20,
  batteryCriticalPct: 10,
  batteryClearPct: 25,
  battery: HOLD,
  stuckReadings: 12,
  stuckMinSpanMs: 6 * 3_600_000,
  stuckFields: { soil: ['moisture'], tilt: ['pitch', 'roll'] },
  stuckClear: { clearReadings: 3, clearForIntervals: 2 },
  plausible: {
    soil: { moisture: [1, 60], temperature: [-25, 60] },
    tilt: { shock: [0, 200] },
  },
  implausible: HOLD,
  skewToleranceMs: 120_000,
  skew: HOLD,
};
