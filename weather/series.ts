import { z } from 'zod';

// Physical bounds, wide: the world records are ~300 mm of rain in an hour, ~1.9 m in a day,
// −89 °C and +57 °C; daily ET0 rarely passes 12 mm. A value outside them is a broken feed.
const mm = (max: number) => z.number().min(0).max(max).nullable();
const celsius = z.number().min(-90).max(60).nullable();
const instant = z.number({ error: 'not a valid time' }).finite('not a valid time');

const ascending = <T>(key: keyof T) => (rows: T[]) => rows.every((r, i) => i === 0 || (r[key] as number) > (rows[i - 1]![key] as number));

/**
 * What the feed keeps per place (and caches in SQLite): hourly steps and local days, each an
 * absolute instant. An hourly sum covers the hour ending at `at`; a day starts at `start`
 * (the place's local midnight) and lasts 24 hours. `null` = the service had no value.
 */
export const WeatherSeries = z.object({
  hourly: z.array(z.object({ at: instant, et0Mm: mm(10), rainMm: mm(500), tempC: celsius }))
    .refine(ascending('at'), 'hourly times out of order'),
  daily: z.array(z.object({ start: instant, et0Mm: mm(40), rainMm: mm(2_000), minTempC: celsius }))
    .refine(ascending('start'), 'daily times out of order'),
});
export type WeatherSeries = z.infer<typeof WeatherSeries>;
