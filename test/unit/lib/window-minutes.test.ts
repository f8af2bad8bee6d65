import { describe, expect, it } from 'vitest';
import { wateringMinutesPerDay, windowBlocks } from '../../../lib/window-minutes.ts';

describe('watering windows as minutes a day', () => {
  it.each([
    { windows: ['* 5-6 * * *'], blocks: [120, 120, 120, 120, 120, 120, 120] },
    { windows: ['0 5 * * *'], blocks: [1, 1, 1, 1, 1, 1, 1] },
    // Two expressions that touch make one block; an overlap counts once.
    { windows: ['* 5 * * *', '* 6 * * *', '30-59 5 * * *'], blocks: [120, 120, 120, 120, 120, 120, 120] },
    { windows: ['* 5-6 * * 1-5'], blocks: [120, 120, 120, 120, 120] },
    // Late Saturday into Sunday morning is one block across the week's end.
    { windows: ['* 23 * * 6', '* 0 * * 0'], blocks: [120] },
    { windows: ['not cron'], blocks: [] },
  ])('$windows', ({ windows, blocks }) => {
    expect(windowBlocks(windows)).toEqual(blocks);
  });

  it('counts each window as its length or the longest run that may start at its end', () => {
    expect(wateringMinutesPerDay(['* 5-6 * * *', '* 19-20 * * *'], 240)).toBe(480);
    expect(wateringMinutesPerDay(['* 5-6 * * *', '* 19-20 * * *'], 60)).toBe(240);
    expect(wateringMinutesPerDay(['* 5-6 * * 1-5'], 0)).toBeCloseTo((5 * 120) / 7);
    expect(wateringMinutesPerDay(['* * * * *'], 240)).toBe(1440);
  });
});
