import { describe, expect, it } from 'vitest';
import { createIntakeControl } from '../../../ingest/intake-control.ts';

function harness(maxBacklog = 100) {
  const s = { backlog: 0, up: true, held: false, changes: [] as boolean[], now: 0 };
  const control = createIntakeControl({
    maxBacklog,
    backlogLines: () => s.backlog,
    storageUp: () => s.up,
    hold: (hold) => { s.held = hold; },
    held: () => s.held,
    onChange: (held) => s.changes.push(held),
    now: () => s.now,
  });
  return { s, check: () => control.check() };
}

describe('intake control', () => {
  it('holds past the backlog bound while InfluxDB stores, and resumes at half of it', () => {
    const { s, check } = harness();
    s.backlog = 100;
    check();
    expect(s.held).toBe(false); // at the bound, not past it
    s.backlog = 101;
    check();
    expect(s.held).toBe(true);
    s.backlog = 51;
    check();
    expect(s.held).toBe(true); // hysteresis: not yet
    s.backlog = 50;
    check();
    expect(s.held).toBe(false);
    expect(s.changes).toEqual([true, false]);
  });

  it('never holds while InfluxDB is out, and lets go when it goes out: the durable log keeps the readings', () => {
    const { s, check } = harness();
    s.up = false;
    s.backlog = 1_000_000;
    check();
    expect(s.held).toBe(false);
    s.up = true;
    check();
    expect(s.held).toBe(true);
    s.up = false;
    check();
    expect(s.held).toBe(false);
  });

  it('does nothing when turned off (0)', () => {
    const { s, check } = harness(0);
    s.backlog = 1e9;
    check();
    expect(s.held).toBe(false);
  });

  it('holds 10 s at the most, then reads for 2 s before it may hold again (keepalives get through)', () => {
    const { s, check } = harness();
    s.backlog = 1_000;
    check();
    expect(s.held).toBe(true);
    s.now = 9_999;
    check();
    expect(s.held).toBe(true);
    s.now = 10_000;
    check();
    expect(s.held).toBe(false); // ran out, backlog still high
    s.now = 11_999;
    check();
    expect(s.held).toBe(false);
    s.now = 12_000;
    check();
    expect(s.held).toBe(true);
  });
});

