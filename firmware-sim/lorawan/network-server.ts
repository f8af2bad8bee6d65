import mqtt from 'mqtt';
import type { Logger } from '../../lib/logger.ts';
import type { SimDevice } from '../fleet/spec.ts';
import type { SimStats } from '../firmware/stats.ts';
import { decodedPayload, encodeFrame, type Codec } from './codec.ts';
import { chirpstackUplink, stableUuid, ttsUplink, uplinkTopic, type LorawanFormat, type NetworkIdentity } from './envelopes.ts';

export interface NetworkServerDeps {
  url: string;
  username: string | undefined;
  password: string | undefined;
  clientId: string;
  format: LorawanFormat;
  net: NetworkIdentity;
  codec: Codec;
  devices: SimDevice[];
  stats: SimStats;
  logger: Logger;
  /** A gateway outage loses the uplinks of the devices behind it (LoRaWAN class A keeps nothing). */
  isGatewayUp: (gatewayId: string, t: number) => boolean;
  onDownlink: (device: SimDevice, command: unknown) => void;
}

export type NetworkServer = Awaited<ReturnType<typeof startNetworkServer>>;

export const gatewayOf = (device: SimDevice): string => `gw-${device.communityId}`;

/**
 * Stands in for a network server's MQTT integration: one service-account connection that
 * publishes every device's uplinks in the server's envelope and topic layout, and turns
 * downlinks queued on the server's command topics into calls on the device.
 */
export async function startNetworkServer(deps: NetworkServerDeps) {
  const { format, net, stats } = deps;
  const byEui = new Map(deps.devices.map((d) => [d.devEui, d]));
  const byId = new Map(deps.devices.map((d) => [d.id, d]));
  const fCnt = new Map<string, number>();
  const fCntDown = new Map<string, number>();
  const client = mqtt.connect(deps.url, {
    clientId: deps.clientId,
    username: deps.username,
    password: deps.password,
    protocolVersion: 4,
    reconnectPeriod: 2_000,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', (error) => { client.end(true); reject(error); });
  });
  client.on('error', (error) => deps.logger.warn({ err: error.message }, 'network server connection error'));
  const downFilters = format === 'chirpstack'
    ? [`application/${net.application}/device/+/command/down`]
    : [`v3/${net.application}@${net.tenant}/devices/+/down/push`, `v3/${net.application}@${net.tenant}/devices/+/down/replace`];
  await client.subscribeAsync(downFilters, { qos: 1 });
  client.on('message', (topic, payload) => {
    const parts = topic.split('/');
    const device = format === 'chirpstack' ? byEui.get(parts[3]!.toLowerCase()) : byId.get(parts[3]!);
    if (!device) return;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      return deps.logger.debug({ topic }, 'unparsable downlink');
    }
    const items = format === 'chirpstack' ? [body] : ((body.downlinks as Array<Record<string, unknown>> | undefined) ?? []);
    for (const item of items) deps.onDownlink(device, commandOf(item));
  });

  /** True once the broker acknowledged it (QoS 1). */
  const publish = (topic: string, body: unknown): Promise<boolean> =>
    client.publishAsync(topic, JSON.stringify(body), { qos: 1 }).then(
      () => true,
      (error: Error) => {
        deps.logger.debug({ err: error.message, topic }, 'network server publish failed');
        return false;
      },
    );

  return {
    /** The gateway heard the device at t: publish the uplink event (unless the gateway is down). */
    async uplink(device: SimDevice, payload: string, t: number, fPort = 2): Promise<void> {
      const gatewayId = gatewayOf(device);
      if (!deps.isGatewayUp(gatewayId, t)) {
        stats.uplinksLost++;
        return;
      }
      const n = fCnt.get(device.id) ?? 0;
      fCnt.set(device.id, n + 1);
      let reading: Record<string, unknown> | undefined;
      try {
        reading = JSON.parse(payload) as Record<string, unknown>;
      } catch {
        reading = undefined; // the codec fails on a garbled frame: no decoded object
      }
      const rssi = typeof reading?.rssi === 'number' ? reading.rssi : -100;
      const uplink = {
        device, fCnt: n, fPort, time: t, gatewayId, rssi,
        snr: Math.round((rssi + 120) / 4 * 10) / 10,
        spreadingFactor: rssi < -110 ? 10 : rssi < -100 ? 9 : 7,
        decoded: reading ? decodedPayload(deps.codec, device.kind, reading) : undefined,
        frmPayload: reading ? encodeFrame(reading) : Buffer.from(payload),
      };
      stats.sent++;
      if (await publish(uplinkTopic(format, net, device), format === 'chirpstack' ? chirpstackUplink(net, uplink) : ttsUplink(net, uplink))) stats.acked++;
    },
    /** The device confirmed a downlink: the server's ack event. */
    async downlinkAck(device: SimDevice, t: number): Promise<void> {
      const n = fCntDown.get(device.id) ?? 0;
      fCntDown.set(device.id, n + 1);
      let delivered: boolean;
      if (format === 'chirpstack') {
        delivered = await publish(`application/${net.application}/device/${device.devEui}/event/ack`, {
          deduplicationId: stableUuid(`ack:${device.devEui}:${n}`),
          time: new Date(t).toISOString(),
          deviceInfo: { tenantId: net.tenant, applicationId: net.application, deviceName: device.id, devEui: device.devEui },
          queueItemId: stableUuid(`q:${device.devEui}:${n}`),
          acknowledged: true,
          fCntDown: n,
        });
      } else {
        delivered = await publish(`v3/${net.application}@${net.tenant}/devices/${device.id}/down/ack`, {
          end_device_ids: { device_id: device.id, application_ids: { application_id: net.application }, dev_eui: device.devEui.toUpperCase() },
          received_at: new Date(t).toISOString(),
          downlink_ack: { f_port: 2, f_cnt: n, confirmed: true, priority: 'NORMAL' },
        });
      }
      if (delivered) stats.acksSent++;
    },
    async stop(): Promise<void> {
      await client.endAsync();
    },
  };
}

/** The application payload of a downlink: the decoded object, or base64 JSON bytes. */
function commandOf(item: Record<string, unknown>): unknown {
  const object = item.object ?? item.decoded_payload;
  if (object !== undefined) return object;
  const data = item.data ?? item.frm_payload;
  if (typeof data !== 'string') return undefined;
  try {
    return JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}
