import { MAX_BATCH_READINGS } from '../../contracts/native-payload.ts';

/** A reading waiting to be sent: its JSON text, and whether it can join a batch. */
export interface Pending {
  payload: string;
  /** A well-formed JSON object; mangled payloads are sent alone, as the faulty firmware would. */
  batchable: boolean;
}

/**
 * The device's store-and-forward memory: bounded (a real node has a few KB of flash),
 * oldest readings dropped first when full. Readings leave it only once the broker has
 * acknowledged them; a failed send puts them back at the front, in order.
 */
export function createOutbox(options: { capacity: number; onDrop: (n: number) => void }) {
  let items: Pending[] = [];
  return {
    size: () => items.length,
    push(item: Pending): void {
      items.push(item);
      if (items.length > options.capacity) {
        const excess = items.length - options.capacity;
        items = items.slice(excess);
        options.onDrop(excess);
      }
    },
    /** Take the next message: one reading, or a batch of the backlog's leading well-formed ones. */
    take(maxBatch: number): Outgoing | undefined {
      const first = items[0];
      if (!first) return undefined;
      if (!first.batchable || items.length === 1) return { payload: first.payload, items: items.splice(0, 1) };
      let n = 0;
      const limit = Math.min(maxBatch, MAX_BATCH_READINGS);
      while (n < items.length && n < limit && items[n]!.batchable) n++;
      if (n === 1) return { payload: first.payload, items: items.splice(0, 1) };
      const batch = items.splice(0, n);
      return { payload: `[${batch.map((b) => b.payload).join(',')}]`, items: batch };
    },
    /** Put a message that was not acknowledged back at the front. */
    restore(message: Outgoing): void {
      items.unshift(...message.items);
    },
  };
}

/** One MQTT message: a single reading, or a JSON array of them. */
export interface Outgoing {
  payload: string;
  items: Pending[];
}

/** Only well-formed JSON objects may join a batch. */
export const toPending = (payload: string): Pending => ({ payload, batchable: isObject(payload) });


function isObject(payload: string): boolean {
  try {
    const v: unknown = JSON.parse(payload);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}
