/**
 * Every MQTT topic the system uses is built and parsed here, so the broker's ACL,
 * the ingest router and the simulator cannot disagree about a topic's shape.
 */

/** Device ids appear as one topic level: no wildcards, separators or control characters. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export const isDeviceId = (id: string): boolean => DEVICE_ID_PATTERN.test(id);

export const DEVICE_CHANNELS = ['up', 'status', 'down', 'ack'] as const;
export type DeviceChannel = (typeof DEVICE_CHANNELS)[number];

export const deviceTopic = (deviceId: string, channel: DeviceChannel): string => `gs/${deviceId}/${channel}`;

export type ParsedTopic =
  | { format: 'native'; deviceId: string; channel: DeviceChannel }
  | { format: 'chirpstack'; applicationId: string; devEui: string; event: string }
  | { format: 'tts'; application: string; tenant: string; deviceId: string; event: string };

/** Parse a topic into what it addresses; undefined for anything outside the contract. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts[0] === 'gs' && parts.length === 3) {
    const [, deviceId, channel] = parts as [string, string, string];
    if (!isDeviceId(deviceId) || !isChannel(channel)) return undefined;
    return { format: 'native', deviceId, channel };
  }
  // ChirpStack v4: application/{applicationId}/device/{devEui}/event/{event}
  if (parts[0] === 'application' && parts.length === 6 && parts[2] === 'device' && parts[4] === 'event') {
    const [, applicationId, , devEui, , event] = parts as [string, string, string, string, string, string];
    if (!applicationId || !/^[0-9a-fA-F]{16}$/.test(devEui) || !event) return undefined;
    return { format: 'chirpstack', applicationId, devEui: devEui.toLowerCase(), event };
  }
  // The Things Stack v3: v3/{application}@{tenant}/devices/{deviceId}/{event...}
  if (parts[0] === 'v3' && parts.length >= 5 && parts[2] === 'devices') {
    const [, appAtTenant, , deviceId, ...rest] = parts as [string, string, string, string, ...string[]];
    const at = appAtTenant.lastIndexOf('@');
    if (at <= 0 || at === appAtTenant.length - 1 || !deviceId) return undefined;
    return {
      format: 'tts',
      application: appAtTenant.slice(0, at),
      tenant: appAtTenant.slice(at + 1),
      deviceId,
      event: rest.join('/'),
    };
  }
  return undefined;
}

const isChannel = (s: string): s is DeviceChannel => (DEVICE_CHANNELS as readonly string[]).includes(s);
