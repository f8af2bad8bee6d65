import { offsetMs } from './water-balance.ts';
import { CronExpressionParser, type CronExpression } from 'cron-parser';

const parsed = new Map<string, CronExpression>();

const parseWindow = (expression: string, timezone: string): CronExpression => {
  const key = `${timezone}\u0000${expression}`;
  let cron = parsed.get(key);
  if (!cron) {
    cron = CronExpressionParser.parse(expression, { tz: timezone });
    parsed.set(key, cron);
  }
  return cron;
};

/** Throws with the parser's message when an expression is not a valid cron expression. */
export function validateWindow(expression: string, timezone = 'UTC'): void {
  parseWindow(expression, timezone);
}

/**
 * A watering window is the set of minutes its cron expression matches: `* 5-6 * * *` is
 * 05:00–06:59 every day. Evaluated against the injected clock (floored to the minute,
 * since 5-field expressions fix the second at 0), in the deployment's time zone.
 * An invalid expression matches nothing, so a typo can never open a valve at noon.
 */
export function isInWindow(windows: readonly string[], now: number, timezone: string): boolean {
  const minute = Math.floor(now / 60_000) * 60_000;
  // Memoised per minute: every soil reading asks, and cron matching in a time zone
  // (luxon underneath) was the heaviest step of the whole ingest path (measured).
  const cache = cacheOf(windowCache, timezone);
  const cached = cache.get(joinedOf(windows));
  if (cached?.minute === minute) return cached.inside;
  const inside = windows.some((expression) => matcherOf(expression, timezone)(minute));
  if (cache.size > 10_000) cache.clear();
  cache.set(joinedOf(windows), { minute, inside });
  return inside;
}

/**
 * The caches are keyed by time zone, then by the windows' expressions joined (memoised per
 * array: a zone's windows are the same array at every evaluation), so a lookup builds no
 * string; a key built per call was a tenth of a season's evaluation (measured).
 */
const joined = new WeakMap<readonly string[], string>();
const joinedOf = (windows: readonly string[]): string => {
  let key = joined.get(windows);
  if (key === undefined) joined.set(windows, (key = windows.join('\u0000')));
  return key;
};
function cacheOf<V>(caches: Map<string, Map<string, V>>, timezone: string): Map<string, V> {
  let cache = caches.get(timezone);
  if (!cache) caches.set(timezone, (cache = new Map()));
  return cache;
}

const windowCache = new Map<string, Map<string, { minute: number; inside: boolean }>>();

const matchers = new Map<string, (minute: number) => boolean>();

/**
 * Whether a minute is in one window. A window on every day (day of month, month and day of
 * week all `*`, as watering windows are) is a table of the day's 1,440 minutes read at the
 * local minute of day (the zone's UTC offset cached per hour): cron matching in a time zone
 * (luxon) was 62 % of an evaluation's CPU (measured with --cpu-prof). Any other expression
 * goes through the parser's own matching. Invalid: matches nothing.
 */
function matcherOf(expression: string, timezone: string): (minute: number) => boolean {
  const key = `${timezone}\u0000${expression}`;
  let match = matchers.get(key);
  if (match) return match;
  let cron: CronExpression | undefined;
  try {
    cron = parseWindow(expression, timezone);
  } catch {
    cron = undefined;
  }
  if (!cron) match = () => false;
  else {
    const f = cron.fields;
    if (f.dayOfMonth.isWildcard && f.month.isWildcard && f.dayOfWeek.isWildcard) {
      const table = new Uint8Array(1440);
      for (const h of f.hour.values) for (const m of f.minute.values) table[(h as number) * 60 + (m as number)] = 1;
      match = (minute) => table[Math.floor((((minute + offsetMs(minute, timezone)) % 86_400_000) + 86_400_000) % 86_400_000 / 60_000)] === 1;
    } else {
      const parsed = cron;
      match = (minute) => parsed.includesDate(new Date(minute));
    }
  }
  matchers.set(key, match);
  return match;
}

/**
 * The start of the next window after the one `now` is in (or the next one, outside any):
 * scanned in 15-minute steps over two days, enough for hour-granular windows. Undefined when
 * none opens in that time.
 */
export function nextWindowStart(windows: readonly string[], now: number, timezone: string): number | undefined {
  const step = 15 * 60_000;
  // The same for every zone with these windows within a quarter hour: asked on every evaluation of a zone that is due.
  const quarter = Math.floor(now / step);
  const cache = cacheOf(nextStarts, timezone);
  const cached = cache.get(joinedOf(windows));
  if (cached?.quarter === quarter) return cached.start;
  const start = scanNextStart(windows, now, timezone, step);
  if (cache.size > 10_000) cache.clear();
  cache.set(joinedOf(windows), { quarter, start });
  return start;
}

const nextStarts = new Map<string, Map<string, { quarter: number; start: number | undefined }>>();

function scanNextStart(windows: readonly string[], now: number, timezone: string, step: number): number | undefined {
  let t = Math.floor(now / step) * step;
  const end = now + 2 * 86_400_000;
  while (t < end && isInWindow(windows, t, timezone)) t += step;
  while (t < end && !isInWindow(windows, t, timezone)) t += step;
  return t < end ? t : undefined;
}
