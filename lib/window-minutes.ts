import { CronExpressionParser } from 'cron-parser';

const WEEK_MIN = 7 * 1440;
const cache = new Map<string, number[]>();

/**
 * The blocks of contiguous minutes that watering windows (5-field cron expressions, a minute
 * inside when one matches it) cover over a week, as their lengths in minutes: `* 5-6 * * *`
 * is seven blocks of 120, `0 5 * * *` seven of 1. Overlapping and touching windows merge.
 * Day-of-month and month fields are ignored (read as every day): the figure sizes a hot day's
 * watering, and a window limited to some dates is rare. An expression that does not parse
 * covers nothing (the watering rules never match it either).
 */
export function windowBlocks(windows: readonly string[]): number[] {
  const key = windows.join('\u0000');
  const cached = cache.get(key);
  if (cached) return cached;
  const covered = new Uint8Array(WEEK_MIN);
  for (const expression of windows) {
    let fields;
    try {
      fields = CronExpressionParser.parse(expression).fields;
    } catch {
      continue;
    }
    // Sunday may be written 7: fold it onto 0. (`L`/`#` forms name no plain weekday and are left out.)
    const days = new Set(fields.dayOfWeek.values.map(Number).filter(Number.isInteger).map((d) => d % 7));
    for (const day of days) for (const hour of fields.hour.values) for (const minute of fields.minute.values) covered[(day * 24 + hour) * 60 + minute] = 1;
  }
  const blocks = blocksOf(covered);
  if (cache.size > 1_000) cache.clear();
  cache.set(key, blocks);
  return blocks;
}

/** Lengths of the runs of covered minutes, the week read as a circle (Saturday night runs on into Sunday morning). */
function blocksOf(covered: Uint8Array): number[] {
  const start = covered.indexOf(0);
  if (start < 0) return [WEEK_MIN];
  const blocks: number[] = [];
  let length = 0;
  for (let i = 1; i <= WEEK_MIN; i++) {
    if (covered[(start + i) % WEEK_MIN]) length++;
    else if (length > 0) {
      blocks.push(length);
      length = 0;
    }
  }
  return blocks;
}

/**
 * Minutes a day a valve can water inside these windows, averaged over a week: a window says
 * when watering may start, so a run begun at a window's last minute goes on for up to
 * `runMinutes`; each block counts as its length or one such run, whichever is longer.
 */
export function wateringMinutesPerDay(windows: readonly string[], runMinutes: number): number {
  const total = windowBlocks(windows).reduce((sum, length) => sum + Math.max(length, runMinutes), 0);
  return Math.min(1440, total / 7);
}
