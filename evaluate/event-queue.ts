/**
 * Simulated time for an in-process evaluation: a queue of (time, callback) run in time
 * order, and the timers the irrigation engine takes (`set`, `clear`, `defer`) on top of it.
 * Nothing waits on the wall clock, so a season takes as long as its work.
 */
export function createEventQueue(startMs: number) {
  type Entry = { at: number; seq: number; fn: () => void; cancelled: boolean };
  const heap: Entry[] = [];
  let now = startMs;
  let seq = 0;

  const less = (a: Entry, b: Entry) => a.at < b.at || (a.at === b.at && a.seq < b.seq);
  const push = (e: Entry) => {
    heap.push(e);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const pop = (): Entry | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  };

  const at = (t: number, fn: () => void): Entry => {
    const e = { at: Math.max(t, now), seq: seq++, fn, cancelled: false };
    push(e);
    return e;
  };

  return {
    now: (): number => now,
    at,
    /** Run everything due up to `until` in time order; the clock ends at `until`. */
    runUntil(until: number): void {
      while (heap.length > 0 && heap[0]!.at <= until) {
        const e = pop()!;
        if (e.cancelled) continue;
        now = e.at;
        e.fn();
      }
      now = until;
    },
    timers: {
      set: (fn: () => void, ms: number): unknown => at(now + ms, fn),
      clear: (handle: unknown): void => { (handle as Entry).cancelled = true; },
      defer: (fn: () => void): void => { at(now, fn); },
    },
  };
}
export type EventQueue = ReturnType<typeof createEventQueue>;
