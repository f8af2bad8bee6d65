import { ChirpStackUplink } from '../../contracts/lorawan.ts';
import { describeIssues, parseJson, type Decoder } from './types.ts';
import { mapDecodedFields, pickBestGateway } from './vendor-fields.ts';

/**
 * ChirpStack v4 `application/{applicationId}/device/{devEui}/event/up`. One uplink per
 * message: ChirpStack has already de-duplicated the copies heard by several gateways,
 * and `deduplicationId` names that uplink, so a re-delivered message is recognised.
 */
export const decodeChirpStack: Decoder<'chirpstack'> = (topic, payload) => {
  if (topic.event !== 'up') {
    return [{ ok: false, error: { reason: 'topic_not_allowed', detail: `ChirpStack ${topic.event} events carry no readings; publish up events` } }];
  }
  const json = parseJson(payload);
  if (!json.ok) return [json];
  if (typeof json.value !== 'object' || json.value === null || Array.isArray(json.value)) {
    return [{ ok: false, error: { reason: 'schema', detail: 'payload: expected a ChirpStack uplink event object' } }];
  }
  const parsed = ChirpStackUplink.safeParse(json.value);
  if (!parsed.success) return [{ ok: false, error: { reason: 'schema', detail: describeIssues(parsed.error.issues) } }];
  const up = parsed.data;

  // The topic is what the broker authorised; a body naming another device is refused
  // rather than trusted, so one device's uplink cannot be filed under another.
  if (up.deviceInfo.devEui !== topic.devEui) {
    return [{ ok: false, error: { reason: 'schema', detail: `deviceInfo.devEui ${up.deviceInfo.devEui} does not match the topic's dev EUI ${topic.devEui}` } }];
  }
  if (!up.object) {
    return [{ ok: false, error: { reason: 'schema', detail: `no decoded object: configure a codec in the device profile${up.deviceInfo.deviceProfileName ? ` "${up.deviceInfo.deviceProfileName}"` : ''} (its log events show codec errors)` } }];
  }
  const mapped = mapDecodedFields(up.object, { ecUnit: 'uS/cm', path: 'object' });
  if (!mapped.ok) return [mapped];

  const fields = { ...mapped.value };
  // The network server measured the radio; a codec cannot know it.
  const gateway = pickBestGateway(up.rxInfo.map((g) => ({ rssi: g.rssi, snr: g.snr ?? (g.rssi === undefined ? undefined : 0) })));
  if (gateway) {
    fields.rssi = gateway.rssi;
    if (gateway.snr !== undefined) fields.snr = gateway.snr;
  }
  return [{
    ok: true,
    value: {
      deviceRef: { by: 'devEui', devEui: up.deviceInfo.devEui },
      reading: { ts: up.time, dedupKey: up.deduplicationId, fCnt: up.fCnt, fields, source: 'chirpstack' },
    },
  }];
};
