import { describe, expect, it } from 'vitest';
import { CronExpressionParser } from 'cron-parser';
import { isInWindow } from '../../../../rules/irrigation/windows.ts';

describe('watering windows read from a table of the day', () => {
  it('match exactly what the cron parser matches, across time zones and a DST change', () => {
    const expressions = ['* 5-6 * * *', '* 19-20 * * *', '30 4 * * *', '*/15 2,13 * * *', '0-29 23 * * *', '* 12 * * *', '* 4 * * 1-5'];
    const mismatches: string[] = [];
    for (const tz of ['Asia/Shanghai', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'UTC']) {
      for (const e of expressions) {
        const cron = CronExpressionParser.parse(e, { tz });
        // 25 March – 2 April 2026: Europe's spring DST change; 7-minute steps cross every hour's edges.
        for (let t = Date.UTC(2026, 2, 25); t < Date.UTC(2026, 3, 3); t += 7 * 60_000) {
          if (isInWindow([e], t, tz) !== cron.includesDate(new Date(Math.floor(t / 60_000) * 60_000))) mismatches.push(`${tz} ${e} ${new Date(t).toISOString()}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('matches nothing for an invalid expression', () => {
    expect(isInWindow(['not cron'], Date.UTC(2026, 6, 1, 0, 0), 'Asia/Shanghai')).toBe(false);
  });
});
