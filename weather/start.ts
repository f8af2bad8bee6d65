import type { Registry } from 'prom-client';
import type { Config } from '../config/config.ts';
import type { Db } from '../registry/db.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { createWeatherFeed, type ForecastInput, type WeatherFeedDeps } from './feed.ts';
import { createWeatherStore } from './store.ts';
import type { Places } from './locations.ts';

export interface StartWeatherDeps {
  config: Pick<Config, 'weatherUrl' | 'weatherPollIntervalS' | 'weatherMaxAgeH' | 'weatherLocationBy' | 'weatherLatitude' | 'weatherLongitude'>;
  db: Db;
  /** The registry's zones and facilities (registry/city.ts), read at every poll: an import applies at the next. */
  city: { listZones(): Places['zones']; listFacilities(): Places['facilities'] };
  zones: ForecastInput;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  /** Test knobs: request timeout and size limit, and the poll timer. */
  options?: Pick<WeatherFeedDeps, 'timeoutMs' | 'maxBytes' | 'every'>;
}

/** Start the weather feed when GS_WEATHER_URL is set; undefined (and nothing polled) otherwise. */
export function startWeather(deps: StartWeatherDeps) {
  const { config } = deps;
  if (!config.weatherUrl) return undefined;
  const logger = deps.logger.child({ module: 'weather' });
  const feed = createWeatherFeed({
    url: config.weatherUrl,
    pollIntervalMs: config.weatherPollIntervalS * 1000,
    maxAgeMs: config.weatherMaxAgeH * 3_600_000,
    locationBy: config.weatherLocationBy,
    defaultLocation: config.weatherLatitude !== undefined && config.weatherLongitude !== undefined ? { lat: config.weatherLatitude, lon: config.weatherLongitude } : undefined,
    places: () => ({ zones: deps.city.listZones(), facilities: deps.city.listFacilities() }),
    store: createWeatherStore(deps.db, logger),
    zones: deps.zones,
    clock: deps.clock,
    logger,
    registry: deps.registry,
    ...deps.options,
  });
  feed.start();
  logger.info({ host: new URL(config.weatherUrl).host, pollIntervalS: config.weatherPollIntervalS, by: config.weatherLocationBy }, 'weather feed started');
  return feed;
}
