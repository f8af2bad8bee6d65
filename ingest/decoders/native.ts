import { NativeReading, MAX_BATCH_READINGS } from '../../contracts/native-payload.ts';
import type { ReadingFields } from '../../contracts/reading.ts';
import { batteryPercentFromVolts } from '../battery.ts';
import { describeIssues, parseJson, type DecodedItem, type Decoder } from './types.ts';

/** gs/{deviceId}/up: one JSON reading, or an array of them (store-and-forward). */
export const decodeNative: Decoder<'native'> = (topic, payload) => {
  const json = parseJson(payload);
  if (!json.ok) return [json];
  const items = Array.isArray(json.value) ? json.value : [json.value];
  if (items.length === 0) return [{ ok: false, error: { reason: 'schema', detail: 'empty batch' } }];
  if (items.length > MAX_BATCH_READINGS) {
    return [{ ok: false, error: { reason: 'too_large', detail: `batch of ${items.length} readings exceeds ${MAX_BATCH_READINGS}` } }];
  }
  const batch = Array.isArray(json.value);
  return items.map((item, index): DecodedItem => {
    const prefix = batch ? `[${index}]` : '';
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      return { ok: false, error: { reason: 'schema', detail: `${prefix || 'payload'}: expected a JSON object` } };
    }
    const parsed = NativeReading.safeParse(item);
    if (!parsed.success) return { ok: false, error: { reason: 'schema', detail: describeIssues(parsed.error.issues, prefix) } };
    const { ts, seq, batteryV, ...values } = parsed.data;
    const fields: ReadingFields = {};
    for (const [key, value] of Object.entries(values)) if (value !== undefined) fields[key as keyof ReadingFields] = value;
    if (fields.battery === undefined && batteryV !== undefined) fields.battery = batteryPercentFromVolts(batteryV);
    return {
      ok: true,
      value: {
        deviceRef: { by: 'id', id: topic.deviceId },
        reading: {
          ts,
          // A device that reboots restarts seq at 0; its timestamp tells a new reading
          // from a retransmission of an old one.
          dedupKey: seq === undefined ? undefined : ts === undefined ? `s${seq}` : `s${seq}@${ts}`,
          fields,
          source: 'native',
        },
      },
    };
  });
};
