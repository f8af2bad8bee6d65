import { deviceTopic } from '../contracts/topics.ts';
import type { DeviceStatus } from '../contracts/commands.ts';

/**
 * The retained status of each device (`gs/{id}/status`, contracts DeviceStatus), kept by
 * the broker: `online` when a device's session starts, `offline` when it ends, clean
 * DISCONNECT or not (a status that says online after the device said goodbye would be a
 * lie). A session taken over by a new connection with the same id ends without `offline`:
 * the device never went away, and the old session's late offline must not overwrite the
 * new session's online.
 *
 * Coalesced per event-loop turn (`defer`, setImmediate by default): the changes of a turn
 * are published after it, each device's last one only, stamped when it happened. In a
 * reconnect storm the retained publishes no longer sit between one CONNECT and the next
 * CONNACK, and a device that drops and comes back within the turn publishes once; what a
 * subscriber and a newcomer see settles on the same last state as before.
 */
export function createDeviceStatus(deps: {
  publish: (topic: string, status: DeviceStatus) => void;
  now: () => number;
  defer?: (flush: () => void) => void;
}) {
  const superseded = new WeakSet<object>();
  const defer = deps.defer ?? ((flush: () => void) => void setImmediate(flush));
  let pending = new Map<string, DeviceStatus>();
  const flush = (): void => {
    const batch = pending;
    pending = new Map();
    for (const [deviceId, status] of batch) deps.publish(deviceTopic(deviceId, 'status'), status);
  };
  const note = (deviceId: string, status: DeviceStatus): void => {
    const first = pending.size === 0;
    pending.delete(deviceId); // the device's place follows its latest change
    pending.set(deviceId, status);
    if (first) defer(flush);
  };
  return {
    /** A new connection of this device authenticated while `previous` is still registered. */
    takeover(previous: object | undefined): void {
      if (previous) superseded.add(previous);
    },
    isSuperseded: (client: object): boolean => superseded.has(client),
    online(deviceId: string): void {
      note(deviceId, { state: 'online', ts: deps.now() });
    },
    offline(client: object, deviceId: string): void {
      if (superseded.has(client)) return;
      note(deviceId, { state: 'offline', ts: deps.now() });
    },
    /** Publish what the current turn holds now (before the broker closes). */
    flush,
  };
}
