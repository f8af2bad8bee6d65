import type { Db } from '../registry/db.ts';
import type { Logger } from '../lib/logger.ts';
import { WeatherSeries } from './series.ts';

export interface CachedWeather {
  key: string;
  lat: number;
  lon: number;
  fetchedAt: number;
  series: WeatherSeries;
}

export type WeatherStore = ReturnType<typeof createWeatherStore>;

/** The last good answer per place, in SQLite (migration 070). */
export function createWeatherStore(db: Db, logger: Logger) {
  const upsert = db.prepare(`
    INSERT INTO weather_cache (location_key, lat, lon, fetched_at, series) VALUES (@key, @lat, @lon, @fetchedAt, @series)
    ON CONFLICT (location_key) DO UPDATE SET lat = excluded.lat, lon = excluded.lon, fetched_at = excluded.fetched_at, series = excluded.series`);
  const all = db.prepare('SELECT location_key, lat, lon, fetched_at, series FROM weather_cache');
  return {
    save(entry: CachedWeather): void {
      upsert.run({ ...entry, series: JSON.stringify(entry.series) });
    },
    /** Every cached place. A row that no longer parses (hand-edited, an older shape) is skipped and logged, never fatal. */
    loadAll(): CachedWeather[] {
      const rows = all.all() as Array<{ location_key: string; lat: number; lon: number; fetched_at: number; series: string }>;
      return rows.flatMap((r) => {
        try {
          const series = WeatherSeries.parse(JSON.parse(r.series));
          return [{ key: r.location_key, lat: r.lat, lon: r.lon, fetchedAt: r.fetched_at, series }];
        } catch (error) {
          logger.warn({ err: error, key: r.location_key }, 'cached weather unreadable; ignored until the next fetch');
          return [];
        }
      });
    },
  };
}
