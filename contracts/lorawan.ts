import { z } from 'zod';
import { DevEui } from './device.ts';

/**
 * The uplink envelopes LoRaWAN network servers publish over their MQTT integrations.
 * Only the fields we use are checked; everything else (txInfo, devAddr, correlation
 * ids, location, ...) passes untouched, so a network-server upgrade that adds fields
 * does not break the ingest.
 */

/**
 * RFC 3339 as both servers write it: nanosecond fractions (`.123456789`) and a zone,
 * `Z` or `+00:00`. Parsed to epoch ms (the fraction past the millisecond is dropped,
 * which is what Date.parse does).
 */
export const Rfc3339 = z
  .iso.datetime({ offset: true, local: false, error: 'expected RFC 3339 with a time zone' })
  .transform((s) => Date.parse(s));

/** Frame counters are 32-bit unsigned (LoRaWAN 1.0.x / 1.1). */
const FrameCounter = z.number().int().min(0).max(0xffff_ffff);

/** The decoded payload: whatever the codec returned, as long as it is a JSON object. */
export const DecodedObject = z.record(z.string(), z.unknown());
export type DecodedObject = z.infer<typeof DecodedObject>;

/** One gateway that heard the uplink (ChirpStack `rxInfo[]`). */
export const ChirpStackRxInfo = z.object({
  gatewayId: z.string().optional(),
  rssi: z.number().int().optional(),
  snr: z.number().optional(),
});

/**
 * ChirpStack v4 `application/{applicationId}/device/{devEui}/event/up`
 * (integration.proto UplinkEvent, protobuf JSON mapping: camelCase, and scalar
 * defaults such as `fCnt: 0` may be left out).
 */
export const ChirpStackUplink = z.object({
  deduplicationId: z.string().min(1),
  time: Rfc3339.optional(),
  deviceInfo: z.object({
    devEui: DevEui,
    deviceName: z.string().optional(),
    applicationId: z.string().optional(),
    deviceProfileName: z.string().optional(),
  }),
  fCnt: FrameCounter.default(0),
  fPort: z.number().int().min(0).max(255).optional(),
  object: DecodedObject.nullish(),
  rxInfo: z.array(ChirpStackRxInfo).default([]),
});
export type ChirpStackUplink = z.infer<typeof ChirpStackUplink>;

/**
 * ChirpStack v4 `application/{applicationId}/device/{devEui}/event/log` (integration.proto
 * LogEvent): `level` INFO|WARNING|ERROR, `code` (UPLINK_CODEC when the device profile's codec
 * threw on an uplink), `description` (the codec's message), `context` (strings; the uplink's
 * `deduplication_id` among them).
 */
export const ChirpStackLog = z.object({
  time: Rfc3339.optional(),
  deviceInfo: z.object({ devEui: DevEui, deviceProfileName: z.string().optional() }),
  level: z.string().max(20).optional(),
  code: z.string().max(40).optional(),
  description: z.string().max(4000).default(''),
  context: z.record(z.string(), z.string().max(200)).optional(),
});
export type ChirpStackLog = z.infer<typeof ChirpStackLog>;

/** One gateway that heard the uplink (TTS `rx_metadata[]`); `rssi` is the signal RSSI, `channel_rssi` the channel's. */
export const TtsRxMetadata = z.object({
  gateway_ids: z.object({ gateway_id: z.string().optional(), eui: z.string().optional() }).optional(),
  rssi: z.number().optional(),
  channel_rssi: z.number().optional(),
  snr: z.number().optional(),
});

/**
 * The Things Stack v3 `v3/{application}@{tenant}/devices/{deviceId}/up`
 * (ApplicationUp with uplink_message). TTS leaves zero, false and empty values out of
 * its JSON, so every one of them has a default here: `f_cnt` 0, `simulated` false,
 * no `rx_metadata`. `dev_eui` is absent for devices registered without one (ABP).
 */
export const TtsUplink = z.object({
  end_device_ids: z.object({
    device_id: z.string().min(1),
    application_ids: z.object({ application_id: z.string().min(1) }),
    dev_eui: DevEui.optional(),
  }),
  received_at: Rfc3339,
  uplink_message: z.object({
    f_port: z.number().int().min(0).max(255).default(0),
    f_cnt: FrameCounter.default(0),
    decoded_payload: DecodedObject.nullish(),
    /** The payload formatter's warnings; TTS drops `decoded_payload` when the formatter fails. */
    decoded_payload_warnings: z.array(z.string().max(500)).max(20).optional(),
    rx_metadata: z.array(TtsRxMetadata).default([]),
    received_at: Rfc3339.optional(),
  }),
  simulated: z.boolean().default(false),
});
export type TtsUplink = z.infer<typeof TtsUplink>;
