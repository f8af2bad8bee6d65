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
 */
export function checkReading(fields: ReadingFields, kind: DeviceKind, ts: number, receivedAt: number, limits: ValidationLimits): Rejection | undefined {
  const spec = KIND_FIELDS[kind];
  for (const key in fields) {
    const value = fields[key as FieldKey];
    if (value === undefined) continue;
    const range = spec.ranges[key as FieldKey] ?? COMMON_RANGES[key as FieldKey];
    if (!range) return { reason: 'schema', detail: `${key}: not a field a ${kind} device reports` };
    if (value < range[0] || value > range[1]) return { reason: 'out_of_range', detail: `${key}: ${value} is outside ${range[0]}..${range[1]}` };
  }
  for (const key of spec.required) {
    if (fields[key] === undefined) return { reason: 'schema', detail: `a ${kind} reading needs ${spec.required.filter((k) => fields[k] === undefined).join(', ')}` };
  }
  if (ts > receivedAt + limits.maxFutureSkewMs) {
    return { reason: 'bad_timestamp', detail: `ts ${iso(ts)} is ${Math.round((ts - receivedAt) / 1000)} s ahead of receive time (limit ${limits.maxFutureSkewMs / 1000} s)` };
  }
  if (ts < receivedAt - limits.maxPastAgeMs) {
    const hint = ts > 0 && ts < 1e11 ? '; it looks like seconds, send epoch milliseconds' : '';
    return { reason: 'bad_timestamp', detail: `ts ${iso(ts)} is older than ${limits.maxPastAgeMs / 1000} s${hint}` };
  }
  return undefined;
}
