import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../firmware-sim/firmware/backoff.ts';
import { createOutbox, toPending } from '../../../firmware-sim/firmware/outbox.ts';
import { createRandom } from '../../../lib/random.ts';
import { backfillStart, createSimClock, type Timers } from '../../../firmware-sim/sim-clock.ts';

function fakeTimers() {
  let now = 1_000_000;
  const due: Array<{ at: number; fn: () => void }> = [];
  const timers: Timers = { now: () => now, setTimeout: (fn, ms) => due.push({ at: now + ms, fn }), clearTimeout: () => undefined };
  return { timers, advance(ms: number) { now += ms; for (const d of due.splice(0).filter((x) => (x.at <= now ? (x.fn(), false) : true))) due.push(d); } };
}

describe('simulated clock', () => {
  it('runs accel times faster than real time and holds at the end of the run', () => {
    const f = fakeTimers();
    const clock = createSimClock({ startMs: 0, accel: 1440, timers: f.timers, endMs: 86_400_000 });
    f.advance(30_000);
    expect(clock.now()).toBe(43_200_000); // half a day in half a minute
    expect(clock.ended()).toBe(false);
    f.advance(30_050);
    expect(clock.now()).toBe(86_400_000);
    expect(clock.ended()).toBe(true);
  });

  it('schedules sim delays as real delays divided by the acceleration', () => {
    const f = fakeTimers();
    const clock = createSimClock({ startMs: 0, accel: 600, timers: f.timers });
    let fired = 0;
    clock.after(60_000, () => fired++);
    f.advance(99);
    expect(fired).toBe(0);
    f.advance(1);
    expect(fired).toBe(1);
  });

  it.each([[1440, 86_400_000], [1, 3_600_000]])('backfills so an accelerated run ends at the wall clock (accel %i)', (accel, duration) => {
    const wall = 1_800_000_000_000;
    const start = backfillStart(wall, duration, accel);
    const realRun = duration / accel;
    expect(accel === 1 ? start : start + duration).toBe(accel === 1 ? wall : wall + realRun);
  });
});

describe('reconnect backoff', () => {
  const policy = { baseMs: 1_000, capMs: 60_000 };

  it.each([0, 1, 2, 3, 10, 40])('stays within the exponential window at attempt %i', (attempt) => {
    const rng = createRandom(attempt + 1);
    const window = Math.min(60_000, 1_000 * 2 ** attempt);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(attempt, policy, rng);
      expect(d).toBeGreaterThanOrEqual(10);
      expect(d).toBeLessThanOrEqual(window);
    }
  });

  it('spreads a fleet that lost its broker at the same instant over the whole window (no storm)', () => {
    const delays = Array.from({ length: 1_000 }, (_, i) => backoffDelay(0, policy, createRandom(i + 1)));
    const perTenth = new Array(10).fill(0) as number[];
    for (const d of delays) perTenth[Math.min(9, Math.floor(d / 100))]!++;
    // Roughly uniform: no tenth of the window gets more than twice its share.
    for (const n of perTenth) expect(n).toBeLessThan(200);
    for (const n of perTenth) expect(n).toBeGreaterThan(50);
  });
});

describe('store-and-forward outbox', () => {
  const reading = (seq: number) => JSON.stringify({ ts: 1_000 + seq, seq, moisture: 20 });

  it('sends one reading alone and a backlog as JSON-array batches, in order', () => {
    const box = createOutbox({ capacity: 100, onDrop: () => undefined });
    box.push(toPending(reading(0)));
    expect(box.take(10)?.payload).toBe(reading(0));
    for (let i = 1; i <= 25; i++) box.push(toPending(reading(i)));
    const sizes: number[] = [];
    const seqs: number[] = [];
    for (let m = box.take(10); m; m = box.take(10)) {
      const items = JSON.parse(m.payload) as Array<{ seq: number }>;
      sizes.push(items.length);
      seqs.push(...items.map((r) => r.seq));
    }
    expect(sizes).toEqual([10, 10, 5]);
    expect(seqs).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('puts an unacknowledged message back at the front', () => {
    const box = createOutbox({ capacity: 100, onDrop: () => undefined });
    for (let i = 0; i < 5; i++) box.push(toPending(reading(i)));
    const first = box.take(3)!;
    box.restore(first);
    expect(box.size()).toBe(5);
    expect(JSON.parse(box.take(5)!.payload).map((r: { seq: number }) => r.seq)).toEqual([0, 1, 2, 3, 4]);
  });

  it('drops the oldest readings beyond its capacity and counts them', () => {
    let dropped = 0;
    const box = createOutbox({ capacity: 3, onDrop: (n) => { dropped += n; } });
    for (let i = 0; i < 5; i++) box.push(toPending(reading(i)));
    expect(dropped).toBe(2);
    expect(JSON.parse(box.take(10)!.payload).map((r: { seq: number }) => r.seq)).toEqual([2, 3, 4]);
  });

  it('never batches a mangled payload with good ones', () => {
    const box = createOutbox({ capacity: 10, onDrop: () => undefined });
    box.push(toPending(reading(0)));
    box.push(toPending('{"seq":1,"moist'));
    box.push(toPending(reading(2)));
    box.push(toPending(reading(3)));
    expect(box.take(10)!.payload).toBe(reading(0));
    expect(box.take(10)!.payload).toBe('{"seq":1,"moist');
    expect(box.take(10)!.items.length).toBe(2);
  });
});
