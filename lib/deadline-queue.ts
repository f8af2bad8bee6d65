/**
 * Callbacks due at a time, taken in (time, insertion) order: a binary heap. A cancelled
 * entry stays in the heap and is skipped when it comes up. Simulated clocks are built on it
 * (evaluate/event-queue.ts, firmware-sim/sim-clock.ts).
 */
export interface Deadline {
  readonly at: number;
  readonly fn: () => void;
  cancelled: boolean;
}

export function createDeadlineQueue() {
  type Entry = Deadline & { seq: number };
  const heap: Entry[] = [];
  let seq = 0;
  const less = (a: Entry, b: Entry) => a.at < b.at || (a.at === b.at && a.seq < b.seq);
  const swap = (i: number, j: number) => { [heap[i], heap[j]] = [heap[j]!, heap[i]!]; };

  const pop = (): Entry | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        swap(i, m);
        i = m;
      }
    }
    return top;
  };
  const dropCancelled = (): void => {
    while (heap.length > 0 && heap[0]!.cancelled) pop();
  };

  return {
    add(at: number, fn: () => void): Deadline {
      const entry: Entry = { at, seq: seq++, fn, cancelled: false };
      heap.push(entry);
      for (let i = heap.length - 1; i > 0;) {
        const p = (i - 1) >> 1;
        if (!less(heap[i]!, heap[p]!)) break;
        swap(i, p);
        i = p;
      }
      return entry;
    },
    /** When the next live entry is due; undefined when none is left. */
    nextAt(): number | undefined {
      dropCancelled();
      return heap[0]?.at;
    },
    /** The next live entry due at or before `until`, removed; undefined when none is. */
    takeDue(until: number): Deadline | undefined {
      dropCancelled();
      return heap.length > 0 && heap[0]!.at <= until ? pop() : undefined;
    },
  };
}
