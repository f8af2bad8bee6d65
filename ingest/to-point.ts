import type { AcceptedReading } from '../contracts/reading.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import { MEASUREMENT_BY_KIND } from '../contracts/influx-schema.ts';
import { seriesKey } from '../influx/line-protocol.ts';

/** Derived tilt values: angle from the facility's baseline and change since the previous reading. */
export interface TiltDerived {
  tilt: number;
  delta: number | undefined;
}

export function deriveTilt(pitch: number, roll: number, device: DeviceInfo, previous: { pitch: number; roll: number } | undefined): TiltDerived {
  const dp = pitch - (device.baselinePitch ?? 0);
  const dr = roll - (device.baselineRoll ?? 0);
  return {
    tilt: round3(Math.hypot(dp, dr)),
    delta: previous ? round3(Math.hypot(pitch - previous.pitch, roll - previous.roll)) : undefined,
  };
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/**
 * Series keys per device, computed once: the registry replaces a DeviceInfo object when
 * the device changes, so a WeakMap keyed by the object never serves stale tags.
 */
const seriesCache = new WeakMap<DeviceInfo, string>();

function seriesFor(device: DeviceInfo, measurement: NonNullable<(typeof MEASUREMENT_BY_KIND)[keyof typeof MEASUREMENT_BY_KIND]>): string {
  let key = seriesCache.get(device);
  if (key === undefined) {
    const place = { district: device.districtId, community: device.communityId, device: device.id };
    switch (measurement) {
      case 'soil': key = seriesKey(measurement, { ...place, zone: device.zoneId, plant: device.plant }); break;
      case 'tilt': key = seriesKey(measurement, { ...place, facility: device.facilityId, facility_type: device.facilityType }); break;
      case 'valve': key = seriesKey(measurement, { ...place, zone: device.zoneId }); break;
      case 'rain': key = seriesKey(measurement, place); break;
    }
    seriesCache.set(device, key);
  }
  return key;
}

/**
 * Printing a double is the costly part of a point (~130 ns each on Node 20, three or four
 * a reading). Sensors report quantised values (0.1 % moisture, 0.1 °C, 0.01°), so the same
 * few thousand recur: each is printed once. Bounded: emptied when full. Small integers
 * print fast and are not kept.
 */
const VALUE_TEXT_MAX = 8192;
const valueTexts = new Map<number, string>();
export function valueText(value: number): string {
  if (Number.isInteger(value) && value > -1e9 && value < 1e9) return `${value}`;
  let text = valueTexts.get(value);
  if (text === undefined) {
    if (valueTexts.size >= VALUE_TEXT_MAX) valueTexts.clear();
    text = `${value}`; // -0 prints "0", as 0 does: the Map's key equality holds for the text
    valueTexts.set(value, text);
  }
  return text;
}

/**
 * An epoch-ms timestamp as text. A 13-digit number is no small integer, and V8 prints it
 * through its general double path (~140 ns); as two halves of six and seven digits it
 * costs a third of that. Integers only (toPoint truncates).
 */
export function timestampText(ms: number): string {
  // Below 1e15 (the year 33658) the division cannot round up to the next integer.
  if (!(ms >= 1e6 && ms < 1e15)) return `${ms}`;
  const high = Math.floor(ms / 1e6);
  const low = ms - high * 1e6;
  return `${high}${low >= 100_000 ? low : String(low).padStart(6, '0')}`;
}

/**
 * Appends `name=value` to a line's field set. Field names are our own constants (no
 * escaping needed); numbers are always written as floats, non-finite ones are left out.
 */
function field(set: string, name: string, value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return set;
  return set === '' ? `${name}=${valueText(value)}` : `${set},${name}=${valueText(value)}`;
}

/**
 * The line-protocol point for an accepted reading, tagged from the registry. The hot
 * path: one string built field by field, in a fixed order per measurement.
 */
export function toPoint(reading: AcceptedReading, device: DeviceInfo, tilt?: TiltDerived): string | undefined {
  const measurement = MEASUREMENT_BY_KIND[device.kind];
  if (!measurement) return undefined;
  const f = reading.fields;
  let set = '';
  switch (measurement) {
    case 'soil': set = field(field(field(set, 'moisture', f.moisture), 'temperature', f.temperature), 'ec', f.ec); break;
    case 'tilt': set = field(field(field(field(field(set, 'pitch', f.pitch), 'roll', f.roll), 'tilt', tilt?.tilt), 'delta', tilt?.delta), 'shock', f.shock); break;
    case 'valve': set = field(field(field(set, 'state', f.state), 'flow', f.flow), 'volume', f.volume); break;
    case 'rain': set = field(set, 'rainfall', f.rainfall); break;
  }
  set = field(field(field(field(set, 'battery', f.battery), 'battery_v', f.batteryV), 'rssi', f.rssi), 'snr', f.snr);
  const series = seriesFor(device, measurement);
  if (set === '') throw new Error(`a point needs at least one field (${series})`);
  return `${series} ${set} ${timestampText(Math.trunc(reading.ts))}`;
}
