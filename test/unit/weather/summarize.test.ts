import { describe, expect, it } from 'vitest';
import { summarize } from '../../../weather/summarize.ts';
import { parseForecastBody } from '../../../weather/open-meteo.ts';
import type { WeatherSeries } from '../../../weather/series.ts';
import { openMeteoBody, type BodyOptions } from '../../fixtures/weather/open-meteo.ts';

const HOUR = 3_600_000;
const MIDNIGHT = Date.parse('2026-07-13T16:00:00Z'); // 2026-07-14 00:00 UTC+8
const NOW = MIDNIGHT + 34 * HOUR; // 2026-07-15 10:00 local

const series = (o: Omit<BodyOptions, 'firstMidnight'> = {}): WeatherSeries => {
  const parsed = parseForecastBody(JSON.stringify(openMeteoBody({ firstMidnight: MIDNIGHT, ...o })));
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
};

describe('summarize', () => {
  it('gives today\'s ET0, the days after, the last 24 h, and the next 24 h of rain and frost', () => {
    const s = series({
      et0Mm: (at) => (at <= MIDNIGHT + 48 * HOUR ? 0.2 : 0.1), // 4.8 mm/day, then 2.4
      rainMm: (at) => (at === NOW + 5 * HOUR ? 6 : at === NOW - 3 * HOUR ? 1.5 : at === NOW + 30 * HOUR ? 9 : 0),
      tempC: (at) => (at === NOW + 20 * HOUR ? -1 : 12),
    });
    expect(summarize(s, NOW, true)).toEqual({
      et0MmPerDay: 4.8,
      et0Last24hMm: 4.8,
      et0ForecastMmPerDay: [{ dayStart: MIDNIGHT + 48 * HOUR, mm: 2.4 }, { dayStart: MIDNIGHT + 72 * HOUR, mm: 2.4 }],
      rainForecastMm: 6, // the 9 mm is 30 h ahead
      minAirTempC: -1,
      rainLast24hMm: 1.5,
      rainLast24hFrom: 'feed',
    });
  });

  it('counts the hour in progress as forecast, not as past rain', () => {
    const s = series({ rainMm: (at) => (at === NOW + HOUR / 2 ? 3 : 0) });
    // hourly steps are whole hours: the step ending at 11:00 covers 10:00-11:00
    const inProgress = series({ rainMm: (at) => (at === NOW + HOUR ? 3 : 0) });
    expect(summarize(s, NOW, true).rainForecastMm).toBe(0);
    expect(summarize(inProgress, NOW, true)).toMatchObject({ rainForecastMm: 3, rainLast24hMm: 0 });
  });

  it('keeps the last known ET0 and drops forecast rain, frost and past rain when stale', () => {
    const s = series({ rainMm: () => 1, tempC: () => -5 });
    const stale = summarize(s, NOW, false);
    expect(stale).toEqual({ et0MmPerDay: 4.8, et0Last24hMm: 4.8, et0ForecastMmPerDay: expect.any(Array) });
    // Days later, past the series' end: the last day that had a value.
    const later = summarize(s, MIDNIGHT + 10 * 24 * HOUR, false);
    expect(later).toEqual({ et0MmPerDay: 4.8, et0ForecastMmPerDay: [] });
  });

  it('works from daily values alone, and from hourly alone', () => {
    const full = series({ rainMm: (at) => (at > MIDNIGHT + 48 * HOUR && at <= MIDNIGHT + 72 * HOUR ? 0.5 : 0) });
    const dailyOnly = { hourly: [], daily: full.daily };
    expect(summarize(dailyOnly, NOW, true)).toEqual({
      et0MmPerDay: 4.8, et0ForecastMmPerDay: [{ dayStart: MIDNIGHT + 48 * HOUR, mm: 4.8 }, { dayStart: MIDNIGHT + 72 * HOUR, mm: 4.8 }],
      rainForecastMm: 12, minAirTempC: 18, // the wettest day the next 24 h touch
    });
    const hourlyOnly = { hourly: full.hourly, daily: [] };
    expect(summarize(hourlyOnly, NOW, true)).toMatchObject({ et0MmPerDay: 4.8, et0Last24hMm: 4.8, et0ForecastMmPerDay: [] });
  });

  it('leaves out what the service had no value for', () => {
    const s = series({ rainMm: () => null, tempC: () => null, et0Mm: () => null });
    expect(summarize(s, NOW, true)).toEqual({ et0ForecastMmPerDay: [] });
  });
});
