import type { Registry } from 'prom-client';
import type { WeatherForZone, WeatherPort } from '../contracts/weather.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { fetchBounded, type FetchFailure } from './fetch-bounded.ts';
import { buildForecastUrl, parseForecastBody, type BadBody } from './open-meteo.ts';
import { resolveZoneLocations, type LocationBy, type Places, type ZoneLocation } from './locations.ts';
import { summarize } from './summarize.ts';
import { createWeatherMetrics } from './metrics.ts';
import type { CachedWeather, WeatherStore } from './store.ts';

/** `postedBy` of the forecasts the feed posts: what tells them from an operator's. */
export const FEED_ACTOR = 'weather feed';

/**
 * The irrigation engine's forecast input (the one `POST /zones/:id/forecast` fills) and its
 * rain gauges, as the feed needs them. irrigation/start.ts provides it.
 */
export interface ForecastInput {
  current(zoneId: string): { validUntil: number; postedBy?: string } | undefined;
  post(zoneId: string, forecast: { rainMm: number; minAirTempC?: number; et0MmDay?: number; validUntil: number; by: string }): void;
  /** Rain the zone's gauges measured over the last 24 hours; undefined when no gauge serves the zone. */
  gaugeRainLast24hMm(zoneId: string, now: number): number | undefined;
}

export interface WeatherFeedDeps {
  /** The forecast endpoint, Open-Meteo's shape (e.g. https://api.open-meteo.com/v1/forecast). */
  url: string;
  pollIntervalMs: number;
  /** How long a fetched forecast is trusted for rain and frost; ET0 is kept past it. */
  maxAgeMs: number;
  locationBy: LocationBy;
  defaultLocation?: { lat: number; lon: number };
  places: () => Places;
  store: WeatherStore;
  zones?: ForecastInput;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  /** Per request, body included. Open-Meteo answers in well under a second. */
  timeoutMs?: number;
  /** One place's answer is ~10 kB; 1 MiB leaves room for a service that sends more variables. */
  maxBytes?: number;
  /** Requests in flight at once: polite to a public service, quick enough for a city's few dozen places. */
  concurrency?: number;
  every?: (fn: () => void, ms: number) => () => void;
}

export type FetchOutcome = 'ok' | FetchFailure['kind'] | BadBody['kind'];

export interface PollSummary {
  places: number;
  ok: number;
  failed: Partial<Record<Exclude<FetchOutcome, 'ok'>, number>>;
  /** The first few problems, as logged. */
  errors: string[];
  posted: number;
  operatorKept: number;
}

export type WeatherFeed = ReturnType<typeof createWeatherFeed>;

/**
 * Poll a weather service per place, keep and cache the last good answer, answer the
 * irrigation controller's questions from it (`forZone`), and post forecast rain and frost
 * into each zone's forecast input. The service being down, slow, huge or wrong is counted
 * and logged; the zones then fall back to their rain gauges and the last known ET0.
 */
export function createWeatherFeed(deps: WeatherFeedDeps) {
  const log = deps.logger;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const maxBytes = deps.maxBytes ?? 1024 * 1024;
  const held = new Map<string, CachedWeather>(deps.store.loadAll().map((c) => [c.key, c]));
  let locations = new Map<string, ZoneLocation>();
  let unavailable = false;
  let warnedUnplaced = false;
  let polling: Promise<PollSummary> | undefined;
  let stopTimer: (() => void) | undefined;
  const aborter = new AbortController();

  const metrics = createWeatherMetrics(deps.registry, function* sources() {
    const now = deps.clock.now();
    for (const zone of deps.places().zones) yield forZone(zone.id, now).source;
  });

  const isFresh = (c: CachedWeather, now: number) => now - c.fetchedAt <= deps.maxAgeMs;

  const forZone = (zoneId: string, now: number): WeatherForZone => {
    const location = locations.get(zoneId);
    const cached = location && held.get(location.key);
    const fresh = cached !== undefined && isFresh(cached, now);
    const out: WeatherForZone = cached
      ? { zoneId, source: fresh ? 'feed' : 'stale', fetchedAt: cached.fetchedAt, location, ...summarize(cached.series, now, fresh) }
      : { zoneId, source: 'none', ...(location ? { location } : {}), et0ForecastMmPerDay: [] };
    if (out.rainLast24hMm === undefined) {
      const gauge = deps.zones?.gaugeRainLast24hMm(zoneId, now);
      if (gauge !== undefined) Object.assign(out, { rainLast24hMm: gauge, rainLast24hFrom: 'gauge' });
    }
    return out;
  };

  const applyToZones = (now: number): { posted: number; operatorKept: number } => {
    if (!deps.zones) return { posted: 0, operatorKept: 0 };
    const counts = postForecasts(deps.zones, locations, held, now, deps.maxAgeMs, log);
    metrics.posted.inc(counts.posted);
    metrics.kept.inc(counts.operatorKept);
    return counts;
  };

  const poll = async (): Promise<PollSummary> => {
    locations = resolveZoneLocations(deps.places(), deps.locationBy, deps.defaultLocation);
    const places = [...new Map([...locations.values()].map((l) => [l.key, l])).values()];
    const summary: PollSummary = { places: places.length, ok: 0, failed: {}, errors: [], posted: 0, operatorKept: 0 };
    await inPool(places, deps.concurrency ?? 4, aborter.signal, async (place) => {
      const { outcome, message } = await fetchPlace(place, { deps, held, timeoutMs, maxBytes, signal: aborter.signal });
      metrics.fetches.inc({ outcome });
      if (outcome === 'ok') summary.ok++;
      else {
        summary.failed[outcome] = (summary.failed[outcome] ?? 0) + 1;
        if (summary.errors.length < 3 && message) summary.errors.push(message);
        log.debug({ key: place.key, outcome, message }, 'weather fetch failed');
      }
    });
    if (aborter.signal.aborted) return summary;
    const now = deps.clock.now();
    if (summary.ok > 0) metrics.lastSuccess.set(now / 1000);
    Object.assign(summary, applyToZones(now));
    report(summary, now);
    return summary;
  };

  /** One line per poll that had trouble, and one when the zones fall back or come back. */
  const report = (summary: PollSummary, now: number) => {
    const zones = deps.places().zones.length;
    if (locations.size < zones && !warnedUnplaced) log.warn({ zones, placed: locations.size }, 'zones without a place for their weather: give facilities coordinates or set GS_WEATHER_LATITUDE/GS_WEATHER_LONGITUDE');
    warnedUnplaced = locations.size < zones;
    const failed = summary.places - summary.ok;
    if (failed > 0) log.warn({ failed: summary.failed, places: summary.places, errors: summary.errors }, 'weather service requests failed');
    const stale = [...new Set([...locations.values()].map((l) => l.key))].filter((key) => { const c = held.get(key); return !c || !isFresh(c, now); });
    if (stale.length > 0 && !unavailable) log.warn({ places: stale.length }, 'weather unavailable: zones fall back to their rain gauges and the last known ET0');
    else if (stale.length === 0 && unavailable) log.info({ places: summary.places }, 'weather feed back');
    unavailable = stale.length > 0;
  };

  const pollNow = (): Promise<PollSummary> => {
    polling ??= poll().finally(() => { polling = undefined; });
    return polling;
  };
  const guardedPoll = () => {
    pollNow().catch((error: unknown) => log.error({ err: error }, 'weather poll failed'));
  };

  return {
    forZone,
    /** The port for the irrigation controller. */
    port: { forZone } satisfies WeatherPort,
    /** Poll every place now (one poll at a time: a call during a poll joins it). */
    pollNow,
    /** Post what the cache holds (a restart within the trust window), then poll now and every interval. */
    start(): void {
      locations = resolveZoneLocations(deps.places(), deps.locationBy, deps.defaultLocation);
      applyToZones(deps.clock.now());
      guardedPoll();
      const every = deps.every ?? ((fn, ms) => { const t = setInterval(fn, ms).unref(); return () => clearInterval(t); });
      stopTimer = every(guardedPoll, deps.pollIntervalMs);
    },
    /** Stop polling; a request in flight is abandoned. */
    async stop(): Promise<void> {
      stopTimer?.();
      aborter.abort();
      await polling?.catch(() => undefined);
    },
  };
}

/** One place's forecast, fetched bounded and parsed; a good answer is held and cached (a failed cache write is logged, not fatal). */
async function fetchPlace(
  place: ZoneLocation,
  ctx: { deps: WeatherFeedDeps; held: Map<string, CachedWeather>; timeoutMs: number; maxBytes: number; signal: AbortSignal },
): Promise<{ outcome: FetchOutcome; message?: string }> {
  const { deps, held } = ctx;
  const answer = await fetchBounded(buildForecastUrl(deps.url, place.lat, place.lon), { timeoutMs: ctx.timeoutMs, maxBytes: ctx.maxBytes, signal: ctx.signal });
  if (!answer.ok) return { outcome: answer.error.kind, message: answer.error.message };
  const parsed = parseForecastBody(answer.value);
  if (!parsed.ok) return { outcome: 'bad_body', message: `${new URL(deps.url).host} (${place.key}): ${parsed.error.message}` };
  const entry = { key: place.key, lat: place.lat, lon: place.lon, fetchedAt: deps.clock.now(), series: parsed.value };
  held.set(place.key, entry);
  try {
    deps.store.save(entry);
  } catch (error) {
    deps.logger.error({ err: error, key: place.key }, 'weather not cached; a restart starts without it');
  }
  return { outcome: 'ok' };
}

/**
 * Post each zone's forecast rain and frost from fresh data, unless a forecast someone else
 * posted (an operator) still holds. Stale data posts nothing: the last post expires on its
 * own and the zone is left to its rain gauges.
 */
function postForecasts(zones: ForecastInput, locations: Map<string, ZoneLocation>, held: Map<string, CachedWeather>, now: number, maxAgeMs: number, log: Logger) {
  const counts = { posted: 0, operatorKept: 0 };
  for (const [zoneId, location] of locations) {
    const cached = held.get(location.key);
    if (!cached || now - cached.fetchedAt > maxAgeMs) continue;
    const w = summarize(cached.series, now, true);
    if (w.rainForecastMm === undefined && w.minAirTempC === undefined && w.et0MmPerDay === undefined) continue;
    try {
      const current = zones.current(zoneId);
      if (current && current.validUntil > now && current.postedBy !== FEED_ACTOR) {
        counts.operatorKept++;
        continue;
      }
      zones.post(zoneId, { rainMm: w.rainForecastMm ?? 0, minAirTempC: w.minAirTempC, et0MmDay: w.et0MmPerDay, validUntil: cached.fetchedAt + maxAgeMs, by: FEED_ACTOR });
      counts.posted++;
    } catch (error) {
      log.error({ err: error, zoneId }, 'weather forecast not posted to the zone');
    }
  }
  return counts;
}

/** Run `fn` over `items`, `concurrency` at a time, until done or aborted. */
async function inPool<T>(items: T[], concurrency: number, signal: AbortSignal, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal.aborted) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
