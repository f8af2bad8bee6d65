import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/logger.ts';
import { startClockTicks, timersOn, type After } from '../../../lib/clock-ticks.ts';

/** A hand-moved clock with `after`, like the simulator's. */
function fakeClock() {
  let now = 0;
  let due: Array<{ at: number; fn: () => void }> = [];
  const after: After = (ms, fn) => {
    const entry = { at: now + ms, fn };
    due.push(entry);
    return () => { due = due.filter((d) => d !== entry); };
  };
  return {
    after,
    pending: () => due.length,
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const next = due.filter((d) => d.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        due = due.filter((d) => d !== next);
        now = next.at;
        next.fn();
      }
      now = until;
    },
  };
}

describe('ticks on another clock', () => {
  it('ticks every period of that clock, survives a throwing tick, and stops', () => {
    const clock = fakeClock();
    const logged: string[] = [];
    const logger = createLogger('error', new Writable({ write(chunk, _e, done) { logged.push(String(chunk)); done(); } }));
    let ticks = 0;
    const task = startClockTicks(clock.after, 60_000, () => {
      ticks += 1;
      if (ticks === 2) throw new Error('boom');
    }, logger, 'watering-tick');
    clock.advance(59_999);
    expect(ticks).toBe(0);
    clock.advance(1);
    expect(ticks).toBe(1);
    clock.advance(5 * 60_000);
    expect(ticks).toBe(6);
    expect(logged.some((l) => l.includes('boom') && l.includes('watering-tick'))).toBe(true);
    task.stop();
    clock.advance(10 * 60_000);
    expect(ticks).toBe(6);
    expect(clock.pending()).toBe(0);
  });

  it('gives one-shot timers that fire in that clock\'s time and can be cleared', () => {
    const clock = fakeClock();
    const timers = timersOn(clock.after);
    const fired: string[] = [];
    timers.set(() => fired.push('ack-timeout'), 30_000);
    const cleared = timers.set(() => fired.push('cleared'), 10_000);
    timers.clear(cleared);
    clock.advance(29_999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual(['ack-timeout']);
  });
});
