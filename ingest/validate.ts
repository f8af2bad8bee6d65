import { COMMON_RANGES, KIND_FIELDS, type DeviceKind, type FieldKey, type ReadingFields } from '../contracts/reading.ts';
import type { Rejection } from '../contracts/rejects.ts';

export interface ValidationLimits {
  maxFutureSkewMs: number;
  maxPastAgeMs: number;
}

const iso = (ms: number): string => (Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(ms));

/**
 * Check a decoded reading against its device's kind: the fields that kind reports,
 * their physical ranges, and a timestamp within the accepted window. `ts` must already
 * be settled (the device's, or receive time when it sent none). Returns why it is
 * refused, or undefined when it is accepted (the hot path allocates nothing then).
 *
 * A field outside its range costs that field, not the reading: it is removed from
 * `fields` and handed to `dropped` once the rest is accepted. The reading is refused whole
 * only when a required field is missing (or was the one out of range), a field is not one
 * its kind reports, or the time is wrong.
 */
// `required`: the kind's by default; a device profile may name others (a water-potential
// probe reports no moisture: ingest/profiles/decentlab-dl-trs21.yaml).
export function checkReading(
  fields: ReadingFields, kind: DeviceKind, ts: number, receivedAt: number, limits: ValidationLimits,
  dropped?: (key: FieldKey, detail: string) => void,
  required: readonly FieldKey[] = KIND_FIELDS[kind].required,
): Rejection | undefined {
  const spec = KIND_FIELDS[kind];
  let outOfRange: Array<[FieldKey, string]> | undefined;
  for (const key in fields) {
    const value = fields[key as FieldKey];
    if (value === undefined) continue;
    const range = spec.ranges[key as FieldKey] ?? COMMON_RANGES[key as FieldKey];
    if (!range) return { reason: 'schema', detail: `${key}: not a field a ${kind} device reports` };
    if (value < range[0] || value > range[1]) (outOfRange ??= []).push([key as FieldKey, `${key}: ${value} is outside ${range[0]}..${range[1]}`]);
  }
  if (outOfRange) {
    for (const [key] of outOfRange) delete fields[key];
  }
  for (const key of required) {
    if (fields[key] === undefined) {
      const refused = outOfRange?.find(([k]) => k === key);
      if (refused) return { reason: 'out_of_range', detail: refused[1] };
      return { reason: 'schema', detail: `a ${kind} reading needs ${required.filter((k) => fields[k] === undefined).join(', ')}` };
    }
  }
  if (outOfRange && !hasMeasurement(fields)) return { reason: 'out_of_range', detail: outOfRange.map(([, d]) => d).join('; ') };
  if (ts > receivedAt + limits.maxFutureSkewMs) {
    return { reason: 'bad_timestamp', detail: `ts ${iso(ts)} is ${Math.round((ts - receivedAt) / 1000)} s ahead of receive time (limit ${limits.maxFutureSkewMs / 1000} s)` };
  }
  if (ts < receivedAt - limits.maxPastAgeMs) {
    const hint = ts > 0 && ts < 1e11 ? '; it looks like seconds, send epoch milliseconds' : '';
    return { reason: 'bad_timestamp', detail: `ts ${iso(ts)} is older than ${limits.maxPastAgeMs / 1000} s${hint}` };
  }
  if (outOfRange) {
    if (!dropped) return { reason: 'out_of_range', detail: outOfRange[0]![1] };
    for (const [key, detail] of outOfRange) dropped(key, detail);
  }
  return undefined;
}

/** Anything left to store besides the radio's view of the uplink. */
function hasMeasurement(fields: ReadingFields): boolean {
  for (const key in fields) if (key !== 'rssi' && key !== 'snr' && fields[key as FieldKey] !== undefined) return true;
  return false;
}
