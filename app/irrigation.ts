import { startIrrigation } from '../irrigation/start.ts';
import { startWeather } from '../weather/start.ts';
import type { MqttBroker } from '../broker/create-broker.ts';
import type { Db } from '../registry/db.ts';
import type { Sql } from '../registry/sql/port.ts';
import type { createCityRegistry } from '../registry/city.ts';
import type { AlertSignal } from '../contracts/alert.ts';
import type { AppContext } from './context.ts';
import { ownsEverything, type CommunityOwnership } from '../contracts/ownership.ts';

/** Irrigation: zone state, runs, decisions and overrides in the shared store (`sql`: the data directory's SQLite, or PostgreSQL); valve commands through the broker; valve faults and manual-zone watering alerts through the alert service. */
export async function startIrrigationFeature(ctx: AppContext, deps: { db: Db; sql: Sql; broker: MqttBroker; append: (lines: string[]) => Promise<void>; signal: (alert: AlertSignal) => void; ownership?: CommunityOwnership; influx?: Parameters<typeof startIrrigation>[0]['influx'] }) {
  const irrigation = await startIrrigation({
    db: deps.db, sql: deps.sql, broker: deps.broker, append: deps.append, readings: ctx.readings, clock: ctx.clock, logger: ctx.logger, metrics: ctx.metrics,
    settings: ctx.options.irrigation, time: ctx.options.irrigationTime, signal: deps.signal, influx: deps.influx,
    // One process owns every zone: no gate, exactly as before.
    ...(deps.ownership && deps.ownership !== ownsEverything ? { ownership: deps.ownership } : {}),
  });
  return { irrigation, stop: () => irrigation.stop() };
}

/** The weather feed (GS_WEATHER_URL): forecast rain and frost into the zones' forecast input; ET0 for the controller. */
export function startWeatherFeature(ctx: AppContext, deps: { db: Db; city: ReturnType<typeof createCityRegistry>; zones: Parameters<typeof startWeather>[0]['zones'] }) {
  const weather = startWeather({
    config: ctx.config, db: deps.db, city: deps.city, zones: deps.zones, clock: ctx.clock, logger: ctx.logger, registry: ctx.metrics.registry, options: ctx.options.weather,
  });
  return { weather, stop: async (): Promise<void> => { await weather?.stop(); } };
}
