import { describe, expect, it } from 'vitest';
import { holdFor, initialHold, stepHold, type HoldConfig } from '../../../../rules/device-health/hold.ts';

const S = 1_000;
// Fire after 3 readings spanning ≥ 20 s; clear after 3 good readings and ≥ 40 s since the last bad one.
const CFG: HoldConfig = holdFor({ raiseReadings: 3, raiseForIntervals: 2, clearReadings: 3, clearForIntervals: 4 }, 10);

/** Feed (present, seconds) pairs; returns "F@i" / "C@i" for each fire and clear. */
function run(steps: Array<[boolean, number]>): string[] {
  let state = initialHold();
  const out: string[] = [];
  steps.forEach(([present, s], i) => {
    const step = stepHold(state, present, s * S, CFG);
    state = step.state;
    if (step.fired) out.push(`F@${i}`);
    if (step.cleared) out.push(`C@${i}`);
  });
  return out;
}
const every = (n: number, present: (i: number) => boolean, periodS: number, startS = 0): Array<[boolean, number]> =>
  Array.from({ length: n }, (_, i) => [present(i), startS + i * periodS]);

describe('hold: a condition debounced both ways in readings and time', () => {
  it.each([
    ['a single outlier', [[true, 0], [false, 10], [false, 20], [false, 30], [false, 40], [false, 50]], []],
    ['3 readings within 20 s: count reached, time not', [[true, 0], [true, 5], [true, 10], [false, 15]], []],
    ['3 readings spanning exactly 20 s', [[true, 0], [true, 10], [true, 20]], ['F@2']],
    ['good readings between bad ones keep the episode', [[true, 0], [false, 10], [true, 20], [false, 30], [true, 40]], ['F@4']],
    ['an episode ends after the clear wait: the next outlier starts afresh', [[true, 0], [false, 10], [false, 20], [false, 40], [true, 50], [true, 60]], []],
    ['clears after 3 good readings and 40 s since the last bad one', [[true, 0], [true, 10], [true, 20], [false, 30], [false, 40], [false, 59], [false, 60]], ['F@2', 'C@6']],
    ['3 good readings in less than 40 s do not clear', [[true, 0], [true, 10], [true, 20], [false, 21], [false, 22], [false, 23], [true, 24]], ['F@2']],
    ['a bad reading during the clear wait restarts it', [[true, 0], [true, 10], [true, 20], [false, 30], [false, 50], [true, 55], [false, 70], [false, 80], [false, 90], [false, 95]], ['F@2', 'C@9']],
  ] as Array<[string, Array<[boolean, number]>, string[]]>)('%s → %j', (_name, steps, expected) => {
    expect(run(steps)).toEqual(expected);
  });

  it.each([
    ['every 5 ms, in range 60 % of the time', 5, 10_000],
    ['every 45 ms (the 4.5 s cycle seen in the field)', 45, 2_000],
    ['every 100 ms', 100, 2_000],
  ])('a sawtooth %s fires once and never clears while it lasts', (_name, periodMs, n) => {
    // 0..99 % VWC with 1..60 plausible: 40 of every 100 readings implausible.
    const steps = every(n, (i) => i % 100 === 0 || i % 100 > 60, periodMs / S);
    expect(run(steps)).toEqual([expect.stringMatching(/^F@/)]);
  });

  it('at the device\'s own cadence a sawtooth is slow: one fire and one clear per 100-reading cycle, never more', () => {
    const steps = every(400, (i) => i % 100 === 0 || i % 100 > 60, 10);
    const out = run(steps);
    expect(out.filter((x) => x.startsWith('F@'))).toHaveLength(4);
    expect(out.filter((x) => x.startsWith('C@'))).toHaveLength(3);
  });
});
