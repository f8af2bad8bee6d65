import { COMMON_RANGES, KIND_FIELDS, type AcceptedReading, type FieldKey, type NormalisedReading } from '../contracts/reading.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import type { Rejection } from '../contracts/rejects.ts';
import { err, ok, type Result } from '../lib/result.ts';

export interface ValidationLimits {
  maxFutureSkewMs: number;
  maxPastAgeMs: number;
}

const iso = (ms: number): string => (Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(ms));

/**
 * Check a decoded reading against its device's kind: the fields that kind reports,
 * their physical ranges, and a timestamp within the accepted window. `ts` must already
 * be settled (the device's, or receive time when it sent none).
 */
export function validateReading(
  reading: NormalisedReading & { ts: number },
  device: DeviceInfo,
  receivedAt: number,
  limits: ValidationLimits,
): Result<AcceptedReading, Rejection> {
  const spec = KIND_FIELDS[device.kind];
  for (const key of Object.keys(reading.fields) as FieldKey[]) {
    const value = reading.fields[key];
    if (value === undefined) continue;
    const range = spec.ranges[key] ?? COMMON_RANGES[key];
    if (!range) return err({ reason: 'schema', detail: `${key}: not a field a ${device.kind} device reports` });
    if (value < range[0] || value > range[1]) {
      return err({ reason: 'out_of_range', detail: `${key}: ${value} is outside ${range[0]}..${range[1]}` });
    }
  }
  const missing = spec.required.filter((key) => reading.fields[key] === undefined);
  if (missing.length > 0) return err({ reason: 'schema', detail: `a ${device.kind} reading needs ${missing.join(', ')}` });

  const ts = reading.ts;
  if (ts > receivedAt + limits.maxFutureSkewMs) {
    return err({ reason: 'bad_timestamp', detail: `ts ${iso(ts)} is ${Math.round((ts - receivedAt) / 1000)} s ahead of receive time (limit ${limits.maxFutureSkewMs / 1000} s)` });
  }
  if (ts < receivedAt - limits.maxPastAgeMs) {
    const hint = ts > 0 && ts < 1e11 ? '; it looks like seconds, send epoch milliseconds' : '';
    return err({ reason: 'bad_timestamp', detail: `ts ${iso(ts)} is older than ${limits.maxPastAgeMs / 1000} s${hint}` });
  }
  return ok({ ...reading, ts, kind: device.kind, receivedAt });
}
