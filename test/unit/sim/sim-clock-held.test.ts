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
