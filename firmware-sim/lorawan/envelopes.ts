import { createHash } from 'node:crypto';
import type { SimDevice } from '../fleet/spec.ts';

/**
 * Uplink envelopes as the network servers publish them on their MQTT integrations
 * (REFERENCES.md: ChirpStack v4 integration.proto `UplinkEvent`, The Things Stack v3
 * data formats). Pure: ids and times come in, the JSON object goes out.
 */
export const LORAWAN_FORMATS = ['chirpstack', 'tts'] as const;
export type LorawanFormat = (typeof LORAWAN_FORMATS)[number];

export interface NetworkIdentity {
  /** ChirpStack: application UUID; TTS: application id. */
  application: string;
  /** ChirpStack tenant UUID; TTS tenant (`ttn` on The Things Network). */
  tenant: string;
}

export interface Uplink {
  device: SimDevice;
  fCnt: number;
  fPort: number;
  /** Sim epoch ms the gateway heard it. */
  time: number;
  /** The codec's output; undefined when the payload could not be decoded. */
  decoded: Record<string, unknown> | undefined;
  frmPayload: Buffer;
  gatewayId: string;
  rssi: number;
  snr: number;
  spreadingFactor: number;
}

const hex = (s: string, n: number): string => createHash('sha256').update(s).digest('hex').slice(0, n);

/** A UUID-shaped id that is stable for its input (ChirpStack ids are UUIDs). */
export function stableUuid(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const devAddrFor = (devEui: string): string => hex(`addr:${devEui}`, 8);
export const gatewayEuiFor = (gatewayId: string): string => hex(`gw:${gatewayId}`, 16);

/** RFC 3339 with nanoseconds, as ChirpStack writes `time`. */
const rfc3339Ns = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');

/** The application as the app names it in a device's `lorawanApplication` (ingest/lorawan-binding.ts). */
export const applicationName = (format: LorawanFormat, net: NetworkIdentity): string => (format === 'chirpstack' ? net.application : `${net.application}@${net.tenant}`);

export function uplinkTopic(format: LorawanFormat, net: NetworkIdentity, device: SimDevice): string {
  return format === 'chirpstack'
    ? `application/${net.application}/device/${device.devEui}/event/up`
    : `v3/${net.application}@${net.tenant}/devices/${device.id}/up`;
}

export function chirpstackUplink(net: NetworkIdentity, u: Uplink): Record<string, unknown> {
  const envelope: Record<string, unknown> = {
    deduplicationId: stableUuid(`${u.device.devEui}:${u.fCnt}:${u.time}`),
    time: rfc3339Ns(u.time),
    deviceInfo: {
      tenantId: net.tenant,
      tenantName: 'greenspace',
      applicationId: net.application,
      applicationName: 'greenspace-sim',
      deviceProfileId: stableUuid(`profile:${u.device.kind}`),
      deviceProfileName: `sim-${u.device.kind}`,
      deviceName: u.device.id,
      devEui: u.device.devEui,
      tags: { community: u.device.communityId },
    },
    devAddr: devAddrFor(u.device.devEui),
    adr: true,
    dr: 12 - u.spreadingFactor,
    fCnt: u.fCnt,
    fPort: u.fPort,
    confirmed: false,
    data: u.frmPayload.toString('base64'),
    rxInfo: [{
      gatewayId: gatewayEuiFor(u.gatewayId),
      uplinkId: Number.parseInt(hex(`${u.device.devEui}:${u.fCnt}`, 8), 16) >>> 1,
      rssi: u.rssi,
      snr: u.snr,
      context: Buffer.from(hex(`ctx:${u.fCnt}`, 8), 'hex').toString('base64'),
      metadata: { region_config_id: 'cn470_10', region_common_name: 'CN470' },
    }],
    txInfo: { frequency: 486_300_000, modulation: { lora: { bandwidth: 125_000, spreadingFactor: u.spreadingFactor, codeRate: 'CR_4_5' } } },
  };
  // `object` is present only when the device profile's codec decoded the payload.
  if (u.decoded) envelope.object = u.decoded;
  return envelope;
}

export function ttsUplink(net: NetworkIdentity, u: Uplink): Record<string, unknown> {
  const at = new Date(u.time).toISOString();
  const message: Record<string, unknown> = {
    session_key_id: Buffer.from(hex(`sk:${u.device.devEui}`, 16), 'hex').toString('base64'),
    f_port: u.fPort,
    frm_payload: u.frmPayload.toString('base64'),
    rx_metadata: [{
      gateway_ids: { gateway_id: u.gatewayId, eui: gatewayEuiFor(u.gatewayId).toUpperCase() },
      time: at,
      rssi: u.rssi,
      channel_rssi: u.rssi,
      snr: u.snr,
      received_at: at,
    }],
    settings: { data_rate: { lora: { bandwidth: 125_000, spreading_factor: u.spreadingFactor, coding_rate: '4/5' } }, frequency: '486300000' },
    received_at: at,
    consumed_airtime: `${(0.05 * 2 ** (u.spreadingFactor - 7)).toFixed(6)}s`,
  };
  // TTS omits zero values from its JSON: the first uplink of a session has no f_cnt.
  if (u.fCnt !== 0) message.f_cnt = u.fCnt;
  if (u.decoded) message.decoded_payload = u.decoded;
  return {
    end_device_ids: {
      device_id: u.device.id,
      application_ids: { application_id: net.application },
      dev_eui: u.device.devEui.toUpperCase(),
      join_eui: '70B3D57ED0000000',
      dev_addr: devAddrFor(u.device.devEui).toUpperCase(),
    },
    correlation_ids: [`as:up:${hex(`${u.device.devEui}:${u.fCnt}:${u.time}`, 26).toUpperCase()}`],
    received_at: at,
    uplink_message: message,
  };
}
