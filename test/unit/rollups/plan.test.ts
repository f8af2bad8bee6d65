import { describe, expect, it } from 'vitest';
import { completeUntil, planRollup, retentionCutoff } from '../../../rollups/plan.ts';

const H = 3_600_000;
const DAY = 24 * H;
const T0 = Date.UTC(2026, 10, 8);

describe('planRollup', () => {
  it.each([
    ['nothing before the first hour is complete', { doneUntilMs: T0, nowMs: T0 + H + 4 * 60_000 }, undefined],
    ['the hour is complete once its grace is over', { doneUntilMs: T0, nowMs: T0 + H + 5 * 60_000 }, { fromMs: T0, toMs: T0 + H }],
    ['a backlog is cut into steps of maxWindows', { doneUntilMs: T0, nowMs: T0 + 30 * H }, { fromMs: T0, toMs: T0 + 24 * H }],
    ['a first run starts at the window holding firstMs', { doneUntilMs: undefined, firstMs: T0 + 90 * 60_000, nowMs: T0 + 3 * H }, { fromMs: T0 + H, toMs: T0 + 2 * H }],
    ['points still in the durable log hold the windows after them back', { doneUntilMs: T0, nowMs: T0 + 10 * H, pendingSinceMs: T0 + 2 * H + 1 }, { fromMs: T0, toMs: T0 + 2 * H }],
    ['a cursor at the complete edge has nothing to do', { doneUntilMs: T0 + 9 * H, nowMs: T0 + 10 * H }, undefined],
  ])('%s', (_name, input, expected) => {
    const step = planRollup({ resolution: '1h', firstMs: T0, graceMs: 5 * 60_000, maxWindows: 24, ...input });
    expect(step).toEqual(expected && { resolution: '1h', ...expected });
  });

  it('aligns days to UTC midnight', () => {
    expect(completeUntil({ resolution: '1d', nowMs: T0 + DAY + 40 * 60_000, graceMs: 30 * 60_000 })).toBe(T0 + DAY);
    expect(completeUntil({ resolution: '1d', nowMs: T0 + DAY + 20 * 60_000, graceMs: 30 * 60_000 })).toBe(T0);
  });
});

describe('retentionCutoff', () => {
  it.each([
    ['keeps raw points forever at 0', { retentionDays: 0, dailyDoneUntilMs: T0 }, undefined],
    ['deletes nothing before the first daily rollup', { retentionDays: 400, dailyDoneUntilMs: undefined }, undefined],
    ['cuts at the start of the day the retention reaches', { retentionDays: 400, dailyDoneUntilMs: T0 }, T0 - 400 * DAY],
    ['never past the daily rollup', { retentionDays: 1, dailyDoneUntilMs: T0 - 10 * DAY }, T0 - 10 * DAY],
  ])('%s', (_name, input, expected) => {
    expect(retentionCutoff({ nowMs: T0 + 3 * H, ...input })).toBe(expected);
  });
});
