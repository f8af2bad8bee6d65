import { dedupKeyText, type DedupKey } from '../contracts/reading.ts';

/**
 * Recently seen retransmission keys per device. Bounded twice: a window of keys per
 * device, and the number of devices tracked (the first tracked is forgotten first).
 * After a restart the window is empty; replays are still harmless because InfluxDB
 * overwrites a point with the same series and timestamp.
 *
 * A counter key (seq or fCnt with the reading's time) is checked as numbers: a device
 * sends one reading per timestamp, so the window maps each timestamp to the counter sent
 * with it. Text keys, and a counter key whose timestamp already holds another counter, are
 * kept as text. Making that text for every reading (two numbers printed, the string hashed)
 * cost ~0.4 µs of the ingest's ~3.5 µs.
 */
/** Marks a window slot whose key was forgotten; no key is empty, so it matches none. */
const FORGOTTEN = '';

interface Window {
  /** Timestamp → its counter, encoded: seq n as n, fCnt n as -(n + 1). */
  byTs: Map<number, number>;
  texts: Set<string>;
  /** The window's keys in arrival order (a ring): a timestamp of `byTs`, or a text of `texts`. */
  order: Array<number | string>;
  head: number;
}

const codeOf = (key: Exclude<DedupKey, string>): number => (key.counter === 's' ? key.n : -(key.n + 1));

export function createDedup(options: { perDevice: number; maxDevices: number }) {
  const windows = new Map<string, Window>();

  function windowOf(deviceId: string): Window {
    let w = windows.get(deviceId);
    if (!w) {
      w = { byTs: new Map(), texts: new Set(), order: [], head: 0 };
      if (windows.size >= options.maxDevices) {
        const oldest = windows.keys().next().value;
        if (oldest !== undefined) windows.delete(oldest);
      }
      windows.set(deviceId, w);
    }
    return w;
  }

  function remember(w: Window, entry: number | string): void {
    if (w.order.length < options.perDevice) {
      w.order.push(entry);
      return;
    }
    const evicted = w.order[w.head]!;
    if (typeof evicted === 'number') w.byTs.delete(evicted);
    else w.texts.delete(evicted);
    w.order[w.head] = entry;
    w.head = (w.head + 1) % options.perDevice;
  }

  return {
    /** True when (device, key) was seen within the window; records it otherwise. */
    seen(deviceId: string, key: DedupKey): boolean {
      const w = windowOf(deviceId);
      if (typeof key !== 'string') {
        const code = codeOf(key);
        const held = w.byTs.get(key.ts);
        if (held === code) return true;
        if (held === undefined && (w.texts.size === 0 || !w.texts.has(dedupKeyText(key)))) {
          w.byTs.set(key.ts, code);
          remember(w, key.ts);
          return false;
        }
        // Another counter holds this timestamp (or did, and this key went to the texts then).
        key = dedupKeyText(key);
      }
      if (w.texts.has(key)) return true;
      w.texts.add(key);
      remember(w, key);
      return false;
    },
    /** Forget a key, so that a reading that could not be stored may be sent again. */
    forget(deviceId: string, key: DedupKey): void {
      const w = windows.get(deviceId);
      if (!w) return;
      // Its slot too: left in place, its eviction would later delete the key sent again.
      if (typeof key !== 'string' && w.byTs.get(key.ts) === codeOf(key)) {
        w.byTs.delete(key.ts);
        const slot = w.order.lastIndexOf(key.ts);
        if (slot !== -1) w.order[slot] = FORGOTTEN;
        return;
      }
      const text = dedupKeyText(key);
      if (!w.texts.delete(text)) return;
      const slot = w.order.lastIndexOf(text);
      if (slot !== -1) w.order[slot] = FORGOTTEN;
    },
  };
}
