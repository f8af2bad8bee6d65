import { TtsUplink } from '../../contracts/lorawan.ts';
import { describeIssues, parseJson, type Decoder, type DeviceRef } from './types.ts';
import { pickBestGateway } from './radio.ts';

/**
 * The Things Stack v3 `v3/{application}@{tenant}/devices/{deviceId}/up`.
 *
 * The device is found by its dev EUI, falling back to the TTS device id as our device
 * id (ABP devices may have no EUI; and an operator may register the TTS id instead).
 *
 * ts is when the Network Server received the uplink (`uplink_message.received_at`),
 * the closest to the measurement; the top-level `received_at` (Application Server,
 * after formatting) is the fallback. A re-delivery carries the same times, so the
 * dedup key f{f_cnt}@{ts} recognises it; the time part tells a new uplink from an old
 * one after the frame counter restarts on a rejoin.
 *
 * The decoded payload is mapped to our fields by the device's profile once the device is
 * known (ingest/accept-decoded.ts).
 *
 * Simulated uplinks (sent from the TTS console to test a payload formatter) are
 * accepted and flagged: refusing them would leave the installer unable to check a
 * device end to end, and the flag lets the point be tagged and rules ignore them.
 */
export const decodeTts: Decoder<'tts'> = (topic, payload) => {
  if (topic.event !== 'up') {
    return [{ ok: false, error: { reason: 'topic_not_allowed', detail: `The Things Stack ${topic.event} messages carry no readings; publish up messages` } }];
  }
  const json = parseJson(payload);
  if (!json.ok) return [json];
  if (typeof json.value !== 'object' || json.value === null || Array.isArray(json.value)) {
    return [{ ok: false, error: { reason: 'schema', detail: 'payload: expected a The Things Stack uplink message object' } }];
  }
  const parsed = TtsUplink.safeParse(json.value);
  if (!parsed.success) return [{ ok: false, error: { reason: 'schema', detail: describeIssues(parsed.error.issues) } }];
  const up = parsed.data;
  const ids = up.end_device_ids;

  // The topic is what the broker authorised; a body naming another device is refused.
  if (ids.device_id !== topic.deviceId) {
    return [{ ok: false, error: { reason: 'schema', detail: `end_device_ids.device_id ${ids.device_id} does not match the topic's device ${topic.deviceId}` } }];
  }
  if (ids.application_ids.application_id !== topic.application) {
    return [{ ok: false, error: { reason: 'schema', detail: `end_device_ids.application_ids.application_id ${ids.application_ids.application_id} does not match the topic's application ${topic.application}` } }];
  }
  const message = up.uplink_message;
  const fields: { rssi?: number; snr?: number } = {};
  // rssi is omitted by some gateways that report only channel_rssi; an omitted snr is a
  // zero. A simulated uplink's radio metadata is the console's invention (rssi 42), not
  // a measurement, so it is left out.
  const gateway = up.simulated ? undefined : pickBestGateway(message.rx_metadata.map((g) => {
    const rssi = g.rssi ?? g.channel_rssi;
    return { rssi, snr: rssi === undefined ? undefined : (g.snr ?? 0) };
  }));
  if (gateway) {
    fields.rssi = gateway.rssi;
    if (gateway.snr !== undefined) fields.snr = gateway.snr;
  }
  const ts = message.received_at ?? up.received_at;
  const deviceRef: DeviceRef = ids.dev_eui
    ? { by: 'devEui', devEui: ids.dev_eui, fallbackId: topic.deviceId }
    : { by: 'id', id: topic.deviceId };
  return [{
    ok: true,
    value: {
      deviceRef,
      reading: {
        ts,
        dedupKey: { counter: 'f', n: message.f_cnt, ts },
        fCnt: message.f_cnt,
        fields,
        source: 'tts',
        ...(up.simulated ? { simulated: true } : {}),
      },
      ...(message.decoded_payload
        ? { decoded: { object: message.decoded_payload, path: 'uplink_message.decoded_payload' } }
        : { codec: { kind: 'missing', uplinkId: undefined, detail: missingPayload(topic.application, topic.deviceId, message.f_port, message.decoded_payload_warnings), ...(message.decoded_payload_warnings?.length ? { failedWith: message.decoded_payload_warnings.join('; ') } : {}) } }),
    },
  }];
};

/**
 * Why an uplink came without `decoded_payload`. The Things Stack drops it when the payload
 * formatter fails, and reports the failure as an `as.up.data.decode.fail` event, which its
 * MQTT integration does not carry: the warnings, when present, are all the message says.
 */
function missingPayload(application: string, deviceId: string, fPort: number, warnings: readonly string[] | undefined): string {
  if (warnings && warnings.length > 0) return `no decoded payload: the payload formatter failed: ${warnings.join('; ')}`;
  return `no decoded payload: no uplink payload formatter for ${application}/${deviceId} (f_port ${fPort}), or it failed (The Things Stack shows formatter errors as as.up.data.decode.fail events in its console, not over MQTT)`;
}
