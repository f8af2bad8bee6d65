import { deviceTopic } from '../contracts/topics.ts';
import type { DeviceStatus } from '../contracts/commands.ts';

/**
 * The retained status of each device (`gs/{id}/status`, contracts DeviceStatus), kept by
 * the broker: `online` when a device's session starts, `offline` when it ends, clean
 * DISCONNECT or not (a status that says online after the device said goodbye would be a
 * lie). A session taken over by a new connection with the same id ends without `offline`:
 * the device never went away, and the old session's late offline must not overwrite the
 * new session's online.
 */
export function createDeviceStatus(deps: { publish: (topic: string, status: DeviceStatus) => void; now: () => number }) {
  const superseded = new WeakSet<object>();
  return {
    /** A new connection of this device authenticated while `previous` is still registered. */
    takeover(previous: object | undefined): void {
      if (previous) superseded.add(previous);
    },
    isSuperseded: (client: object): boolean => superseded.has(client),
    online(deviceId: string): void {
      deps.publish(deviceTopic(deviceId, 'status'), { state: 'online', ts: deps.now() });
    },
    offline(client: object, deviceId: string): void {
      if (superseded.has(client)) return;
      deps.publish(deviceTopic(deviceId, 'status'), { state: 'offline', ts: deps.now() });
    },
  };
}
