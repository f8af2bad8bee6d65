import type { DeviceKind, FieldKey } from '../../contracts/reading.ts';

/**
 * Device-health limits. Defaults, with where they come from:
 * - offline after 3 missed reports: one lost LoRa uplink or a late report is normal radio
 *   life; three in a row is not.
 * - battery 20 % warning / 10 % critical, cleared at 25 %: typical lithium-thionyl cells hold
 *   their voltage until late, so 20 % leaves weeks for a visit; 5 points of hysteresis keep
 *   a battery hovering at the limit (temperature swings) from flapping.
 * - stuck: 12 identical values spanning at least 6 h. Real soil moisture and tilt sensors
 *   carry noise in the last digit; an exactly repeated value for hours is a frozen sensor.
 * - plausible ranges are narrower than the physical ranges the ingest enforces (those
 *   readings are refused and dead-lettered before the rules see them): 0 % or >70 % VWC
 *   means a probe out of the soil or shorted; soil below −25 °C or above 60 °C is a fault.
 * - clock skew: 2 minutes, 3 readings in a row, cleared below half that.
 */
export interface DeviceHealthConfig {
  offlineAfterIntervals: number;
  batteryWarnPct: number;
  batteryCriticalPct: number;
  batteryClearPct: number;
  stuckReadings: number;
  stuckMinSpanMs: number;
  /** The field whose value is watched for "stuck", per kind. */
  stuckFields: Partial<Record<DeviceKind, FieldKey[]>>;
  plausible: Partial<Record<DeviceKind, Partial<Record<FieldKey, [number, number]>>>>;
  outOfRangeReadings: number;
  skewToleranceMs: number;
  skewReadings: number;
}

export const DEFAULT_DEVICE_HEALTH_CONFIG: DeviceHealthConfig = {
  offlineAfterIntervals: 3,
  batteryWarnPct: 20,
  batteryCriticalPct: 10,
  batteryClearPct: 25,
  stuckReadings: 12,
  stuckMinSpanMs: 6 * 3_600_000,
  stuckFields: { soil: ['moisture'], tilt: ['pitch', 'roll'] },
  plausible: {
    soil: { moisture: [0.5, 70], temperature: [-25, 60] },
    tilt: { shock: [0, 200] },
  },
  outOfRangeReadings: 2,
  skewToleranceMs: 120_000,
  skewReadings: 3,
};
