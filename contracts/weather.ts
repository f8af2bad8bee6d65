import { z } from 'zod';

/**
 * What the weather feed knows for one zone at one instant: the port the irrigation
 * controller reads (reference ET0 for a soil water balance, forecast rain and frost to
 * hold off). Every value is optional: the feed may be off, down, or never have answered.
 *
 * - `source: 'feed'`: a forecast fetched within the feed's trust window (GS_WEATHER_MAX_AGE_H);
 * - `'stale'`: only older data is left. ET0 stays (the last known value is a fair guess for
 *   a water balance), forecast rain and frost are dropped (a day-old forecast of a shower
 *   must not keep holding water back), past rain comes from the zone's rain gauges;
 * - `'none'`: nothing known for the zone's place (feed off, no location, no data yet).
 */
export const WeatherForZone = z.object({
  zoneId: z.string(),
  source: z.enum(['feed', 'stale', 'none']),
  /** When the data used was fetched (epoch ms). */
  fetchedAt: z.number().optional(),
  /** The place whose weather this is, and where its coordinates came from. */
  location: z.object({
    key: z.string(),
    lat: z.number(),
    lon: z.number(),
    from: z.enum(['community', 'district', 'default']),
  }).optional(),
  /** FAO-56 reference evapotranspiration of today (local day at the place), mm/day. */
  et0MmPerDay: z.number().min(0).optional(),
  /** ET0 summed over the last 24 hours, mm. */
  et0Last24hMm: z.number().min(0).optional(),
  /** ET0 of the days after today, in order (mm/day); `dayStart` is the local midnight (epoch ms). */
  et0ForecastMmPerDay: z.array(z.object({ dayStart: z.number(), mm: z.number().min(0) })),
  /** Precipitation forecast for the next 24 hours, mm. Only while the data is fresh. */
  rainForecastMm: z.number().min(0).optional(),
  /** Lowest air temperature forecast for the next 24 hours, °C. Only while the data is fresh. */
  minAirTempC: z.number().optional(),
  /** Rain over the last 24 hours, mm: the feed's while fresh, else the zone's rain gauges'. */
  rainLast24hMm: z.number().min(0).optional(),
  rainLast24hFrom: z.enum(['feed', 'gauge']).optional(),
});
export type WeatherForZone = z.infer<typeof WeatherForZone>;

/** The port: what the weather is for a zone at `now` (epoch ms). Synchronous: it reads held data, never the network. */
export interface WeatherPort {
  forZone(zoneId: string, now: number): WeatherForZone;
}
