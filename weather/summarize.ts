import type { WeatherForZone } from '../contracts/weather.ts';
import type { WeatherSeries } from './series.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const round = (x: number) => Math.round(x * 100) / 100;

/** Sum of `pick` over hourly steps ending in (from, to]; undefined when no step there has a value. */
function sumHours(series: WeatherSeries, from: number, to: number, pick: (h: WeatherSeries['hourly'][number]) => number | null): number | undefined {
  let sum: number | undefined;
  for (const h of series.hourly) {
    const v = pick(h);
    if (h.at > from && h.at <= to && v !== null) sum = (sum ?? 0) + v;
  }
  return sum === undefined ? undefined : round(sum);
}

/**
 * The weather values of a series at `now`. `fresh` says whether the forecast part may be
 * used: stale data keeps ET0 (last known) but gives no forecast rain or frost.
 */
export function summarize(series: WeatherSeries, now: number, fresh: boolean): Omit<WeatherForZone, 'zoneId' | 'source' | 'fetchedAt' | 'location'> {
  // Today's ET0, else the latest day before now that has one: the last known value.
  const known = series.daily.filter((d) => d.start <= now && d.et0Mm !== null);
  const today = known.at(-1);
  const et0Forecast = series.daily.filter((d) => d.start > now && d.et0Mm !== null).map((d) => ({ dayStart: d.start, mm: d.et0Mm as number }));
  const out: ReturnType<typeof summarize> = { et0ForecastMmPerDay: et0Forecast };
  const et0Last24h = sumHours(series, now - DAY, now, (h) => h.et0Mm);
  if (et0Last24h !== undefined) out.et0Last24hMm = et0Last24h;
  // Without daily values (a service sending hourly only), the last 24 hours stand for today.
  if (today) out.et0MmPerDay = today.et0Mm as number;
  else if (et0Last24h !== undefined) out.et0MmPerDay = et0Last24h;
  if (!fresh) return out;

  // The hour in progress counts as forecast: it has not been measured yet.
  const rainAhead = sumHours(series, now, now + DAY, (h) => h.rainMm);
  if (rainAhead !== undefined) out.rainForecastMm = rainAhead;
  else {
    // Daily values only: the wettest of the local days the next 24 hours touch.
    const days = series.daily.filter((d) => d.start + DAY > now && d.start < now + DAY && d.rainMm !== null);
    if (days.length > 0) out.rainForecastMm = round(Math.max(...days.map((d) => d.rainMm as number)));
  }
  const temps = series.hourly.filter((h) => h.at >= now && h.at <= now + DAY && h.tempC !== null).map((h) => h.tempC as number);
  if (temps.length === 0) {
    for (const d of series.daily) if (d.start + DAY > now && d.start < now + DAY && d.minTempC !== null) temps.push(d.minTempC);
  }
  if (temps.length > 0) out.minAirTempC = Math.min(...temps);
  const rainPast = sumHours(series, now - DAY, now, (h) => h.rainMm);
  if (rainPast !== undefined) {
    out.rainLast24hMm = rainPast;
    out.rainLast24hFrom = 'feed';
  }
  return out;
}
