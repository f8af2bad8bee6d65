/**
 * Recently seen retransmission keys per device. Bounded twice: a window of keys per
 * device, and the number of devices tracked (the first tracked is forgotten first).
 * After a restart the window is empty; replays are still harmless because InfluxDB
 * overwrites a point with the same series and timestamp.
 */
/** Marks a window slot whose key was forgotten; no key is empty, so it matches none. */
const FORGOTTEN = '';

export function createDedup(options: { perDevice: number; maxDevices: number }) {
  const windows = new Map<string, { keys: Set<string>; order: string[]; head: number }>();

  return {
    /** True when (device, key) was seen within the window; records it otherwise. */
    seen(deviceId: string, key: string): boolean {
      let w = windows.get(deviceId);
      if (w) {
        if (w.keys.has(key)) return true;
      } else {
        w = { keys: new Set(), order: [], head: 0 };
        if (windows.size >= options.maxDevices) {
          const oldest = windows.keys().next().value;
          if (oldest !== undefined) windows.delete(oldest);
        }
        windows.set(deviceId, w);
      }
      if (w.order.length < options.perDevice) {
        w.order.push(key);
      } else {
        const evicted = w.order[w.head]!;
        w.keys.delete(evicted);
        w.order[w.head] = key;
        w.head = (w.head + 1) % options.perDevice;
      }
      w.keys.add(key);
      return false;
    },
    /** Forget a key, so that a reading that could not be stored may be sent again. */
    forget(deviceId: string, key: string): void {
      const w = windows.get(deviceId);
      if (!w?.keys.delete(key)) return;
      // Its slot too: left in place, its eviction would later delete the key sent again.
      const slot = w.order.lastIndexOf(key);
      if (slot !== -1) w.order[slot] = FORGOTTEN;
    },
  };
}
