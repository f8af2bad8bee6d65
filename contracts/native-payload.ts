import { z } from 'zod';
import { numeric, valveState } from './reading.ts';

/** A timestamp as devices send it: epoch milliseconds, or ISO 8601 with a zone. */
export const WireTimestamp = z.union([
  z.number().int('epoch milliseconds must be a whole number'),
  z.iso.datetime({ offset: true, local: false, error: 'expected ISO 8601 with a time zone, e.g. 2026-05-01T06:00:00Z' }).transform((s) => Date.parse(s)),
]);

const opt = numeric.optional();

/** One native reading as published on gs/{deviceId}/up (docs/architecture.md, "MQTT contract"). */
export const NativeReading = z.object({
  ts: WireTimestamp.optional(),
  seq: numeric.pipe(z.number().int('seq must be a whole number').min(0)).optional(),
  battery: opt, // %
  batteryV: opt, // V, converted to %
  rssi: opt,
  snr: opt,
  moisture: opt,
  temperature: opt,
  ec: opt,
  pitch: opt,
  roll: opt,
  shock: opt,
  state: valveState.optional(),
  flow: opt,
  volume: opt,
  rainfall: opt,
});
export type NativeReading = z.infer<typeof NativeReading>;

/** Store-and-forward batches are bounded so one message cannot monopolise the ingest. */
export const MAX_BATCH_READINGS = 1000;
