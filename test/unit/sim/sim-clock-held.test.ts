import { describe, expect, it } from 'vitest';
import { createSimClock, type Timers } from '../../../firmware-sim/sim-clock.ts';

function fakeTimers() {
  let now = 1_000_000;
  let due: Array<{ at: number; fn: () => void; id: number }> = [];
  let ids = 0;
  const timers: Timers = {
    now: () => now,
    setTimeout: (fn, ms) => { const id = ++ids; due.push({ at: now + ms, fn, id }); return id; },
    clearTimeout: (h) => { due = due.filter((d) => d.id !== h); },
  };
  return {
    timers,
    advance(ms: number) {
      now += ms;
      const ready = due.filter((d) => d.at <= now);
      due = due.filter((d) => d.at > now);
      for (const d of ready) d.fn();
    },
  };
}

describe('held simulated clock (shared with the system under test)', () => {
  it('stands at the start and only queues timers until released', () => {
    const f = fakeTimers();
    const clock = createSimClock({ startMs: 5_000, accel: 600, timers: f.timers, held: true });
    let fired = 0;
    clock.after(60_000, () => fired++);
    f.advance(10_000); // devices connecting: real time passes, sim time does not
    expect(clock.now()).toBe(5_000);
    expect(fired).toBe(0);
    clock.release();
    f.advance(99);
    expect(fired).toBe(0);
    expect(clock.now()).toBe(5_000 + 99 * 600);
    f.advance(1);
    expect(fired).toBe(1);
  });

  it('cancels a queued timer before and after the release', () => {
    const f = fakeTimers();
    const clock = createSimClock({ startMs: 0, accel: 100, timers: f.timers, held: true });
    let fired = 0;
    const cancelBefore = clock.after(1_000, () => fired++);
    const cancelAfter = clock.after(1_000, () => fired++);
    cancelBefore();
    clock.release();
    cancelAfter();
    f.advance(100);
    expect(fired).toBe(0);
  });

  it('ignores a second release and a release of a running clock', () => {
    const f = fakeTimers();
    const clock = createSimClock({ startMs: 0, accel: 10, timers: f.timers });
    f.advance(100);
    clock.release();
    expect(clock.now()).toBe(1_000);
  });
});

describe('stall-tolerant simulated clock (maxStallMs)', () => {
  const steps = (f: ReturnType<typeof fakeTimers>, n: number, ms: number) => { for (let i = 0; i < n; i++) f.advance(ms); };

  it('runs at its acceleration while the process keeps up', () => {
    const f = fakeTimers();
    const clock = createSimClock({ startMs: 0, accel: 1_000, timers: f.timers, maxStallMs: 20 });
    steps(f, 40, 5);
    expect(clock.now()).toBe(200_000);
  });

  it('counts a stall of the process as maxStallMs only: devices do not lose simulated minutes to it', () => {
    const f = fakeTimers();
    const clock = createSimClock({ startMs: 0, accel: 4_320, timers: f.timers, maxStallMs: 20 });
    steps(f, 10, 5); // 50 ms running
    f.advance(1_000); // a 1 s stall (a loaded machine)
    expect(clock.now()).toBe((50 + 20) * 4_320);
    const plain = createSimClock({ startMs: 0, accel: 4_320, timers: f.timers });
    f.advance(1_000);
    expect(plain.now()).toBe(1_000 * 4_320); // without it, the stall is 72 simulated minutes
  });

  it('fires timers in simulated-time order, never before their simulated deadline, even after a stall', () => {
    const f = fakeTimers();
    const clock = createSimClock({ startMs: 0, accel: 600, timers: f.timers, maxStallMs: 20 });
    const fired: Array<[string, number]> = [];
    clock.after(60_000, () => fired.push(['late', clock.now()]));
    clock.after(30_000, () => fired.push(['early', clock.now()]));
    f.advance(2_000); // a stall: only 20 ms (12 s simulated) count
    expect(fired).toEqual([]);
    steps(f, 40, 5);
    expect(fired.map(([name]) => name)).toEqual(['early', 'late']);
    expect(fired[0]![1]).toBeGreaterThanOrEqual(30_000);
    expect(fired[1]![1]).toBeGreaterThanOrEqual(60_000);
    expect(fired[1]![1]).toBeLessThan(60_000 + 5 * 600 + 1); // within one tick of the deadline
  });

  it('holds until released, keeps cancellations, and stops at its end', () => {
    const f = fakeTimers();
    const clock = createSimClock({ startMs: 1_000, accel: 100, timers: f.timers, maxStallMs: 20, held: true, endMs: 1_000 + 100 * 100 });
    let fired = 0;
    clock.after(500, () => fired++);
    const cancel = clock.after(600, () => fired++);
    f.advance(5_000);
    expect(clock.now()).toBe(1_000);
    cancel();
    clock.release();
    steps(f, 3, 5);
    expect(fired).toBe(1);
    steps(f, 40, 5);
    expect(clock.ended()).toBe(true);
    expect(clock.now()).toBe(1_000 + 100 * 100);
  });
});
