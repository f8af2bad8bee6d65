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
  const key = `${timezone}\u0000${windows.join('\u0000')}`;
  const cached = windowCache.get(key);
  if (cached?.minute === minute) return cached.inside;
  const inside = windows.some((expression) => {
    try {
      return parseWindow(expression, timezone).includesDate(new Date(minute));
    } catch {
      return false;
    }
  });
  if (windowCache.size > 10_000) windowCache.clear();
  windowCache.set(key, { minute, inside });
  return inside;
}

const windowCache = new Map<string, { minute: number; inside: boolean }>();

/**
 * The start of the next window after the one `now` is in (or the next one, outside any):
 * scanned in 15-minute steps over two days, enough for hour-granular windows. Undefined when
 * none opens in that time.
 */
export function nextWindowStart(windows: readonly string[], now: number, timezone: string): number | undefined {
  const step = 15 * 60_000;
  // The same for every zone with these windows within a quarter hour: asked on every evaluation of a zone that is due.
  const key = `${timezone}\u0000${Math.floor(now / step)}\u0000${windows.join('\u0000')}`;
  if (nextStarts.has(key)) return nextStarts.get(key);
  const found = scanNextStart(windows, now, timezone, step);
  if (nextStarts.size > 10_000) nextStarts.clear();
  nextStarts.set(key, found);
  return found;
}

const nextStarts = new Map<string, number | undefined>();

function scanNextStart(windows: readonly string[], now: number, timezone: string, step: number): number | undefined {
  let t = Math.floor(now / step) * step;
  const end = now + 2 * 86_400_000;
  while (t < end && isInWindow(windows, t, timezone)) t += step;
  while (t < end && !isInWindow(windows, t, timezone)) t += step;
  return t < end ? t : undefined;
}
