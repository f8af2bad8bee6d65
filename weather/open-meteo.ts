import { z } from 'zod';
import { err, ok, type Result } from '../lib/result.ts';
import { WeatherSeries } from './series.ts';

/**
 * Open-Meteo's forecast API (`/v1/forecast`), the shape other weather services copy:
 * `hourly` and `daily` objects of parallel arrays beside a `time` array. We ask for unix
 * times (`timeformat=unixtime`: seconds, UTC) and the place's own time zone
 * (`timezone=auto`), so a daily `time` is the place's local midnight as an instant.
 * Hourly sums (precipitation, ET0) cover the hour *before* their time stamp; a value the
 * model does not have is `null`. A refused request answers 400 `{"error": true, "reason"}`.
 */
export const HOURLY = ['et0_fao_evapotranspiration', 'precipitation', 'temperature_2m'] as const;
export const DAILY = ['et0_fao_evapotranspiration', 'precipitation_sum', 'temperature_2m_min'] as const;

/** One day back for the last 24 hours' rain and ET0; today and two more for the forecast. */
const PAST_DAYS = 1;
const FORECAST_DAYS = 3;
/** Far more than (1 + 3) days × 24 hours: a service sending more is not the one we asked. */
const MAX_STEPS = 24 * 16;

/** The request for one place. Query parameters already in the configured URL (an API key) are kept. */
export function buildForecastUrl(base: string, lat: number, lon: number): string {
  const url = new URL(base);
  const set = (name: string, value: string) => url.searchParams.set(name, value);
  set('latitude', lat.toFixed(4));
  set('longitude', lon.toFixed(4));
  set('hourly', HOURLY.join(','));
  set('daily', DAILY.join(','));
  set('timezone', 'auto');
  set('timeformat', 'unixtime');
  set('past_days', String(PAST_DAYS));
  set('forecast_days', String(FORECAST_DAYS));
  return url.toString();
}

const Values = z.array(z.number().finite().nullable()).max(MAX_STEPS, `more than ${MAX_STEPS} steps`);
// unixtime is asked for; ISO local times (the API's default) are read too, with utc_offset_seconds.
const Times = z.array(z.union([z.number().int(), z.string().regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?$/, 'expected unix seconds or YYYY-MM-DD[THH:MM]')]))
  .max(MAX_STEPS, `more than ${MAX_STEPS} steps`);

const sameLength = (block: Record<string, unknown>, ctx: z.RefinementCtx) => {
  const n = (block.time as unknown[]).length;
  for (const [key, value] of Object.entries(block)) {
    if (Array.isArray(value) && value.length !== n) ctx.addIssue({ code: 'custom', path: [key], message: `${value.length} values for ${n} times` });
  }
};

export const OpenMeteoForecast = z.object({
  latitude: z.number(),
  longitude: z.number(),
  utc_offset_seconds: z.number().int().min(-18 * 3600).max(18 * 3600).default(0),
  timezone: z.string().optional(),
  hourly_units: z.record(z.string(), z.string()).optional(),
  daily_units: z.record(z.string(), z.string()).optional(),
  hourly: z.object({
    time: Times,
    et0_fao_evapotranspiration: Values,
    precipitation: Values,
    temperature_2m: Values.optional(),
  }).superRefine(sameLength).optional(),
  daily: z.object({
    time: Times,
    et0_fao_evapotranspiration: Values.optional(),
    precipitation_sum: Values.optional(),
    temperature_2m_min: Values.optional(),
  }).superRefine(sameLength).optional(),
}).refine((f) => f.hourly !== undefined || f.daily !== undefined, { message: 'neither hourly nor daily data' });
export type OpenMeteoForecast = z.infer<typeof OpenMeteoForecast>;

const ErrorAnswer = z.object({ error: z.literal(true), reason: z.string() });

/** The units we read; the API would convert precipitation to inches or temperature to °F if asked. */
const EXPECTED_UNITS: Record<string, string> = {
  et0_fao_evapotranspiration: 'mm', precipitation: 'mm', precipitation_sum: 'mm', temperature_2m: '°C', temperature_2m_min: '°C',
};

/** An answer we cannot use, said specifically enough to fix (which field, what was wrong). */
export interface BadBody {
  kind: 'bad_body';
  message: string;
}

/**
 * Parse and check one answer body and turn it into the series the feed keeps. Never throws:
 * a malformed body is a value, with the first few problems named by path.
 */
export function parseForecastBody(text: string): Result<WeatherSeries, BadBody> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return err({ kind: 'bad_body', message: `not JSON: ${(error as Error).message}` });
  }
  const refused = ErrorAnswer.safeParse(json);
  if (refused.success) return err({ kind: 'bad_body', message: `the service refused the request: ${refused.data.reason}` });
  const parsed = OpenMeteoForecast.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    return err({ kind: 'bad_body', message: `not an Open-Meteo forecast: ${issues.join('; ')}` });
  }
  const units = { ...parsed.data.hourly_units, ...parsed.data.daily_units };
  for (const [key, unit] of Object.entries(units)) {
    const expected = EXPECTED_UNITS[key];
    if (expected !== undefined && unit !== expected) return err({ kind: 'bad_body', message: `${key} in ${unit}, expected ${expected}` });
  }
  return toSeries(parsed.data);
}

function toSeries(f: OpenMeteoForecast): Result<WeatherSeries, BadBody> {
  const offsetMs = f.utc_offset_seconds * 1000;
  const instant = (t: number | string): number =>
    typeof t === 'number' ? t * 1000 : Date.parse(`${t.length === 10 ? `${t}T00:00` : t}:00Z`) - offsetMs;
  const h = f.hourly;
  const d = f.daily;
  const series: WeatherSeries = {
    hourly: h ? h.time.map((t, i) => ({ at: instant(t), et0Mm: h.et0_fao_evapotranspiration[i] ?? null, rainMm: h.precipitation[i] ?? null, tempC: h.temperature_2m?.[i] ?? null })) : [],
    daily: d ? d.time.map((t, i) => ({ start: instant(t), et0Mm: d.et0_fao_evapotranspiration?.[i] ?? null, rainMm: d.precipitation_sum?.[i] ?? null, minTempC: d.temperature_2m_min?.[i] ?? null })) : [],
  };
  const checked = WeatherSeries.safeParse(series);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    return err({ kind: 'bad_body', message: `implausible values: ${issue?.path.join('.')}: ${issue?.message}` });
  }
  return ok(checked.data);
}
