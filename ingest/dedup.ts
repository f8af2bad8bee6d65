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

type CounterKey = Exclude<DedupKey, string>;

const codeOf = (key: CounterKey): number => (key.counter === 's' ? key.n : -(key.n + 1));

/**
 * The counter key a text key spells exactly (`s3@1764151200000`), if any. With text keys
 * only, such a text and the counter key were one key; a text key (a network server's id is
 * any text) must still match the counter key whichever came first, and forget it. Only
 * counters whose code is exact (whole, 0 ≤ n < 2^53 − 1) are taken: the decoders make no other.
 */
function counterOf(text: string): CounterKey | undefined {
  const first = text.charCodeAt(0);
  if (first !== 0x73 && first !== 0x66) return undefined; // 's', 'f'
  const at = text.indexOf('@');
  if (at < 2) return undefined;
  const n = Number(text.slice(1, at));
  if (!Number.isSafeInteger(n) || n < 0 || n === Number.MAX_SAFE_INTEGER) return undefined;
  const key: CounterKey = { counter: first === 0x73 ? 's' : 'f', n, ts: Number(text.slice(at + 1)) };
  return dedupKeyText(key) === text ? key : undefined;
}

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
      if (typeof key === 'string') key = counterOf(key) ?? key;
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
      if (typeof key === 'string') key = counterOf(key) ?? key;
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
