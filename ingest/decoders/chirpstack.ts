import { ChirpStackLog, ChirpStackUplink } from '../../contracts/lorawan.ts';
import { describeIssues, parseJson, type DecodedItem, type Decoder } from './types.ts';
import { pickBestGateway } from './radio.ts';

/**
 * ChirpStack v4 `application/{applicationId}/device/{devEui}/event/up`. One uplink per
 * message: ChirpStack has already de-duplicated the copies heard by several gateways,
 * and `deduplicationId` names that uplink, so a re-delivered message is recognised.
 * The decoded `object` is mapped to our fields by the device's profile once the device
 * is known (ingest/accept-decoded.ts). `event/log` with code UPLINK_CODEC says the codec
 * threw: it is counted against the device, and explains the `up` without `object` that
 * follows it.
 */
export const decodeChirpStack: Decoder<'chirpstack'> = (topic, payload) => {
  if (topic.event !== 'up' && topic.event !== 'log') {
    return [{ ok: false, error: { reason: 'topic_not_allowed', detail: `ChirpStack ${topic.event} events carry no readings; publish up events` } }];
  }
  const json = parseJson(payload);
  if (!json.ok) return [json];
  if (typeof json.value !== 'object' || json.value === null || Array.isArray(json.value)) {
    return [{ ok: false, error: { reason: 'schema', detail: `payload: expected a ChirpStack ${topic.event} event object` } }];
  }
  if (topic.event === 'log') return [decodeLog(topic.devEui, json.value)];
  const parsed = ChirpStackUplink.safeParse(json.value);
  if (!parsed.success) return [{ ok: false, error: { reason: 'schema', detail: describeIssues(parsed.error.issues) } }];
  const up = parsed.data;

  // The topic is what the broker authorised; a body naming another device is refused
  // rather than trusted, so one device's uplink cannot be filed under another.
  if (up.deviceInfo.devEui !== topic.devEui) {
    return [{ ok: false, error: { reason: 'schema', detail: `deviceInfo.devEui ${up.deviceInfo.devEui} does not match the topic's dev EUI ${topic.devEui}` } }];
  }
  const fields: { rssi?: number; snr?: number } = {};
  // The network server measured the radio; a codec cannot know it.
  const gateway = pickBestGateway(up.rxInfo.map((g) => ({ rssi: g.rssi, snr: g.snr ?? (g.rssi === undefined ? undefined : 0) })));
  if (gateway) {
    fields.rssi = gateway.rssi;
    if (gateway.snr !== undefined) fields.snr = gateway.snr;
  }
  const profile = up.deviceInfo.deviceProfileName ? ` "${up.deviceInfo.deviceProfileName}"` : '';
  return [{
    ok: true,
    value: {
      deviceRef: { by: 'devEui', devEui: up.deviceInfo.devEui },
      reading: { ts: up.time, dedupKey: up.deduplicationId, fCnt: up.fCnt, fields, source: 'chirpstack' },
      ...(up.object
        ? { decoded: { object: up.object, path: 'object' } }
        : { codec: { kind: 'missing', uplinkId: up.deduplicationId, detail: `no decoded object: the device profile${profile} has no codec, or its codec failed without a log event reaching us (ChirpStack publishes those on event/log)` } }),
    },
  }];
};

/** A log event: only a codec error concerns readings; any other is acknowledged and ignored. */
function decodeLog(devEui: string, value: object): DecodedItem {
  const parsed = ChirpStackLog.safeParse(value);
  if (!parsed.success) return { ok: false, error: { reason: 'schema', detail: describeIssues(parsed.error.issues) } };
  const log = parsed.data;
  if (log.deviceInfo.devEui !== devEui) {
    return { ok: false, error: { reason: 'schema', detail: `deviceInfo.devEui ${log.deviceInfo.devEui} does not match the topic's dev EUI ${devEui}` } };
  }
  return {
    ok: true,
    value: {
      deviceRef: { by: 'devEui', devEui },
      reading: { ts: log.time, dedupKey: undefined, fields: {}, source: 'chirpstack' },
      codec: log.code === 'UPLINK_CODEC'
        ? { kind: 'failed', message: log.description || '(no description)', uplinkId: log.context?.['deduplication_id'] ?? log.context?.['deduplicationId'] }
        : { kind: 'ignored', uplinkId: undefined },
    },
  };
}
