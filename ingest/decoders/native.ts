import { NativeReading, MAX_BATCH_READINGS } from '../../contracts/native-payload.ts';
import type { ReadingFields } from '../../contracts/reading.ts';
import { batteryPercentFromVolts } from '../battery.ts';
import { describeIssues, parseJson, type DecodedItem, type Decoder } from './types.ts';

/** gs/{deviceId}/up: one JSON reading, or an array of them (store-and-forward). */
export const decodeNative: Decoder<'native'> = (topic, payload) => {
  const json = parseJson(payload);
  if (!json.ok) return [json];
  if (!Array.isArray(json.value)) return [decodeItem(topic.deviceId, json.value, '')];
  const items = json.value;
  if (items.length === 0) return [{ ok: false, error: { reason: 'schema', detail: 'empty batch' } }];
  if (items.length > MAX_BATCH_READINGS) {
    return [{ ok: false, error: { reason: 'too_large', detail: `batch of ${items.length} readings exceeds ${MAX_BATCH_READINGS}` } }];
  }
  return items.map((item, index) => decodeItem(topic.deviceId, item, `[${index}]`));
};

/** What a native reading says, once validated (by the canonical fast path or by the zod contract). */
interface NativeValues {
  ts: number | undefined;
  seq: number | undefined;
  batteryV: number | undefined;
  fields: ReadingFields;
}

function decodeItem(deviceId: string, item: unknown, prefix: string): DecodedItem {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return { ok: false, error: { reason: 'schema', detail: `${prefix || 'payload'}: expected a JSON object` } };
  }
  let values = canonicalNative(item as Record<string, unknown>);
  if (!values) {
    const parsed = NativeReading.safeParse(item);
    if (!parsed.success) return { ok: false, error: { reason: 'schema', detail: describeIssues(parsed.error.issues, prefix) } };
    values = fromContract(parsed.data);
  }
  const { ts, seq, batteryV, fields } = values;
  if (fields.battery === undefined && batteryV !== undefined) fields.battery = batteryPercentFromVolts(batteryV);
  return {
    ok: true,
    value: {
      deviceRef: { by: 'id', id: deviceId },
      reading: {
        ts,
        // A device that reboots restarts seq at 0; its timestamp tells a new reading
        // from a retransmission of an old one.
        dedupKey: seq === undefined ? undefined : ts === undefined ? `s${seq}` : { counter: 's', n: seq, ts },
        fields,
        source: 'native',
      },
    },
  };
}

/** The contract's output (zod: strings coerced, ISO timestamps parsed, valve words mapped). */
export function fromContract(data: NativeReading): NativeValues {
  const { ts, seq, batteryV, ...values } = data;
  const fields: ReadingFields = {};
  for (const [key, value] of Object.entries(values)) if (value !== undefined) fields[key as keyof ReadingFields] = value;
  if (batteryV !== undefined) fields.batteryV = batteryV;
  return { ts, seq, batteryV, fields };
}

/** Measured fields a native reading may carry as plain numbers (`state` is 0 or 1). */
const NUMBER_FIELDS: ReadonlySet<string> = new Set(['battery', 'rssi', 'snr', 'moisture', 'temperature', 'ec', 'pitch', 'roll', 'shock', 'flow', 'volume', 'rainfall']);

/**
 * The canonical form firmware sends (every value a finite JSON number, epoch-ms `ts`,
 * whole `seq`, `state` 0/1, no other keys), checked without building zod's intermediate
 * objects: this runs for every reading. Anything else returns undefined and goes through
 * the `NativeReading` contract, which coerces what may be coerced and says precisely what
 * is wrong. Both paths give the same values (test/unit/decoders/native-fast-path.test.ts).
 */
export function canonicalNative(item: Record<string, unknown>): NativeValues | undefined {
  let ts: number | undefined;
  let seq: number | undefined;
  let batteryV: number | undefined;
  const fields: ReadingFields = {};
  for (const key in item) {
    const v = item[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
    switch (key) {
      case 'ts':
        if (!Number.isSafeInteger(v)) return undefined; // zod's int() is a safe integer
        ts = v;
        break;
      case 'seq':
        if (!Number.isSafeInteger(v) || v < 0) return undefined;
        seq = v;
        break;
      case 'batteryV':
        batteryV = v;
        fields.batteryV = v; // the raw voltage is stored beside the percent derived from it
        break;
      case 'state':
        if (v !== 0 && v !== 1) return undefined;
        fields.state = v;
        break;
      default:
        if (!NUMBER_FIELDS.has(key)) return undefined;
        fields[key as keyof ReadingFields] = v;
    }
  }
  return { ts, seq, batteryV, fields };
}
