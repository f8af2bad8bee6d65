import type { DeviceInfo } from '../contracts/device.ts';
import type { ReadingFields } from '../contracts/reading.ts';
import type { Rejection } from '../contracts/rejects.ts';
import type { ParsedTopic } from '../contracts/topics.ts';
import type { DecodedItem, DecodedPayload } from './decoders/types.ts';
import { checkApplicationBinding } from './lorawan-binding.ts';
import { describeMissing, historyTime, mapDecoded, type CompiledProfile, type FieldRefusal } from './profile-map.ts';
import type { ProfileSet } from './profile-set.ts';
import type { IngestMessage } from './pipeline.ts';

export interface DecodedAcceptanceDeps {
  profiles: ProfileSet;
  resolve: (item: Extract<DecodedItem, { ok: true }>['value'], msg: IngestMessage) => DeviceInfo | undefined;
  reject: (rejection: Rejection, msg: IngestMessage, deviceId: string | undefined) => void;
  /** One field dropped, the rest of the reading kept: counted per profile, field and reason, and dead-lettered. */
  refuseField: (profile: string, refusal: FieldRefusal, msg: IngestMessage, deviceId: string) => void;
  /** A network server's codec failed on one of this device's uplinks (counted, dead-lettered). */
  codecFailed: (format: ParsedTopic['format'], message: string, msg: IngestMessage, deviceId: string) => void;
  /** A codec failure the uplink itself reports (TTS formatter warnings): counted; the uplink is refused through `reject`. */
  countCodecFailure: (format: ParsedTopic['format']) => void;
}

/** A codec error explains an `up` without decoded payload that follows within this long (ChirpStack sends the log first). */
const CODEC_ERROR_MEMORY_MS = 15 * 60_000;
const MAX_REMEMBERED = 50_000;

/**
 * What happens between "a network server sent a decoded payload" and "a reading is
 * accepted": the device is found, its profile maps the payload (and each `history[]`
 * record, with its own time) to our fields, bad fields are dropped and counted one by one.
 * Codec outcomes are settled here too: a ChirpStack log of a codec error is remembered
 * against the device, and the `up` without `object` that follows is dead-lettered with
 * the codec's message instead of "configure a codec".
 */
export function createDecodedAcceptance(deps: DecodedAcceptanceDeps) {
  const failures = new Map<string, { message: string; uplinkId: string | undefined; at: number }>();

  /** The device, when the item may speak for it; undefined leaves the item to `accept`, which refuses it precisely. */
  function deviceFor(value: Extract<DecodedItem, { ok: true }>['value'], topic: ParsedTopic, msg: IngestMessage): DeviceInfo | undefined {
    const device = deps.resolve(value, msg);
    if (!device || device.disabled || !device.devEui || checkApplicationBinding(topic, device)) return undefined;
    return device;
  }

  /**
   * The items an item becomes: itself (native, or not ours to settle here), nothing (a codec
   * outcome, settled), or the uplink's reading and its history records, mapped.
   */
  function expand(item: DecodedItem, topic: ParsedTopic, msg: IngestMessage, receivedAt: number): DecodedItem[] {
    if (!item.ok || (!item.value.decoded && !item.value.codec)) return [item];
    const device = deviceFor(item.value, topic, msg);
    if (!device) return [{ ok: true, value: { reading: item.value.reading, deviceRef: item.value.deviceRef } }];
    const { codec, decoded } = item.value;
    if (codec) {
      settleCodec(codec, topic, msg, device, receivedAt);
      return [];
    }
    return mapPayload(item.value, decoded!, msg, device);
  }

  function settleCodec(codec: NonNullable<Extract<DecodedItem, { ok: true }>['value']['codec']>, topic: ParsedTopic, msg: IngestMessage, device: DeviceInfo, receivedAt: number): void {
    if (codec.kind === 'ignored') return;
    if (codec.kind === 'failed') {
      if (failures.size >= MAX_REMEMBERED) failures.delete(failures.keys().next().value!);
      failures.delete(device.id);
      failures.set(device.id, { message: codec.message, uplinkId: codec.uplinkId, at: receivedAt });
      deps.codecFailed(topic.format, codec.message, msg, device.id);
      return;
    }
    if (codec.failedWith !== undefined) {
      // The Things Stack said in the uplink itself that its formatter failed: count it as the codec's.
      deps.countCodecFailure(topic.format);
      deps.reject({ reason: 'codec_error', detail: codec.detail }, msg, device.id);
      return;
    }
    const failure = failures.get(device.id);
    const explains = failure && (failure.uplinkId === undefined || codec.uplinkId === undefined || failure.uplinkId === codec.uplinkId) && receivedAt - failure.at <= CODEC_ERROR_MEMORY_MS;
    if (explains) {
      failures.delete(device.id);
      deps.reject({ reason: 'codec_error', detail: `no decoded payload: the codec failed: ${failure.message}` }, msg, device.id);
    } else deps.reject({ reason: 'schema', detail: codec.detail }, msg, device.id);
  }

  function mapPayload(value: Extract<DecodedItem, { ok: true }>['value'], decoded: DecodedPayload, msg: IngestMessage, device: DeviceInfo): DecodedItem[] {
    const profile = deps.profiles.forDevice(device);
    const out: DecodedItem[] = [];
    const records = history(decoded, profile, value, msg, device, out);
    const mapped = mapDecoded(decoded.object, profile);
    // An uplink that carries only buffered records is no reading of its own.
    if (!(mapped.seen === 0 && records > 0)) {
      const missing = describeMissing(mapped, profile, decoded.object, decoded.path);
      if (missing) deps.reject(missing, msg, device.id);
      else {
        for (const r of mapped.refusals) deps.refuseField(profile.id, r, msg, device.id);
        const fields: ReadingFields = { ...mapped.fields, ...value.reading.fields }; // the radio fields: the network server's, not the codec's
        out.unshift({ ok: true, value: { reading: { ...value.reading, fields }, deviceRef: value.deviceRef } });
      }
    }
    return out;
  }

  /** Each `history[]` record as its own reading, at its own time; returns how many the payload held. */
  function history(decoded: DecodedPayload, profile: CompiledProfile, value: Extract<DecodedItem, { ok: true }>['value'], msg: IngestMessage, device: DeviceInfo, out: DecodedItem[]): number {
    const spec = profile.history;
    const list = spec ? decoded.object[spec.path] : undefined;
    if (!spec || !Array.isArray(list) || list.length === 0) return 0;
    const where = `${decoded.path}.${spec.path}`;
    if (list.length > spec.max) {
      deps.reject({ reason: 'too_large', detail: `${where} holds ${list.length} records; the profile ${profile.id} takes ${spec.max} an uplink, the first ${spec.max} were kept` }, msg, device.id);
    }
    for (let i = 0; i < Math.min(list.length, spec.max); i++) {
      const record: unknown = list[i];
      if (typeof record !== 'object' || record === null || Array.isArray(record)) {
        deps.reject({ reason: 'schema', detail: `${where}[${i}]: expected a record object` }, msg, device.id);
        continue;
      }
      const ts = historyTime(record as Record<string, unknown>, spec);
      if (typeof ts === 'string') {
        deps.reject({ reason: 'bad_timestamp', detail: `${where}[${i}].${ts}` }, msg, device.id);
        continue;
      }
      const mapped = mapDecoded(record as Record<string, unknown>, profile);
      const missing = describeMissing(mapped, profile, record as Record<string, unknown>, `${where}[${i}]`);
      if (missing) {
        deps.reject(missing, msg, device.id);
        continue;
      }
      for (const r of mapped.refusals) deps.refuseField(profile.id, { ...r, detail: `${where}[${i}].${r.detail}` }, msg, device.id);
      // A record is known by its time: the same record sent again (a retried uplink) is a duplicate.
      out.push({ ok: true, value: { deviceRef: value.deviceRef, reading: { ts, dedupKey: `h@${ts}`, fields: mapped.fields, source: value.reading.source, ...(value.reading.simulated ? { simulated: true } : {}) } } });
    }
    return list.length;
  }

  return { expand };
}
