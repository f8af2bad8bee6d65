import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../registry/db.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createWeatherFeed, FEED_ACTOR, type ForecastInput, type WeatherFeed } from '../../../weather/feed.ts';
import { createWeatherStore } from '../../../weather/store.ts';
import type { Places } from '../../../weather/locations.ts';
import { openMeteoBody } from '../../fixtures/weather/open-meteo.ts';
import { startFakeWeather, type FakeMode } from './fake-weather.ts';

const HOUR = 3_600_000;
const MIDNIGHT = Date.parse('2026-07-13T16:00:00Z'); // 2026-07-14 00:00 UTC+8
const NOW = MIDNIGHT + 34 * HOUR; // 2026-07-15 10:00 local

const PLACES: Places = {
  zones: [
    { id: 'z-north', communityId: 'c-north', districtId: 'd1' },
    { id: 'z-north-2', communityId: 'c-north', districtId: 'd1' },
    { id: 'z-south', communityId: 'c-south', districtId: 'd1' },
    { id: 'z-far', communityId: 'c-far', districtId: 'd2' }, // no coordinates: the default place
  ],
  facilities: [
    { communityId: 'c-north', districtId: 'd1', location: { lat: 45.65, lon: 122.84 } },
    { communityId: 'c-south', districtId: 'd1', location: { lat: 45.58, lon: 122.84 } },
  ],
};

/** 6 mm of rain five hours ahead in the north, a dry south, 4.8 mm/day of ET0 everywhere; frost at night in the south. */
const weatherAt = (lat: number) => openMeteoBody({
  firstMidnight: MIDNIGHT,
  latitude: lat,
  rainMm: (at) => (Math.abs(lat - 45.65) < 0.01 && at === NOW + 5 * HOUR ? 6 : 0),
  tempC: (at) => (lat < 45.6 && at === NOW + 16 * HOUR ? -2 : 14),
});
const OK: FakeMode = { type: 'ok', body: (lat) => weatherAt(lat) };

describe('weather feed against a weather service on loopback', () => {
  let dir: string;
  let fake: Awaited<ReturnType<typeof startFakeWeather>>;
  const open: Array<{ feed: WeatherFeed; db: Db }> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gs-weather-'));
    fake = await startFakeWeather(OK);
  });
  afterEach(async () => {
    for (const { feed, db } of open.splice(0)) {
      await feed.stop();
      db.close();
    }
    fake.set(OK);
  });
  afterAll(async () => {
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A feed on its own SQLite file (or a given one), a hand-moved clock, a captured log, and a recording forecast input. */
  const setup = (options: { file?: string; timeoutMs?: number; maxBytes?: number; operator?: Map<string, number> } = {}) => {
    const db = openDb(options.file ?? join(dir, `${Math.random().toString(36).slice(2)}.db`));
    const clock = createManualClock(NOW);
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger('debug', new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } }));
    const posts: Array<{ zoneId: string; rainMm: number; minAirTempC?: number; validUntil: number; by: string }> = [];
    const held = new Map<string, { validUntil: number; postedBy?: string }>();
    for (const [zoneId, validUntil] of options.operator ?? []) held.set(zoneId, { validUntil, postedBy: 'admin' });
    const zones: ForecastInput = {
      current: (zoneId) => held.get(zoneId),
      post: (zoneId, f) => {
        posts.push({ zoneId, ...f });
        held.set(zoneId, { validUntil: f.validUntil, postedBy: f.by });
      },
      gaugeRainLast24hMm: (zoneId) => (zoneId === 'z-south' ? 2.5 : undefined),
    };
    const registry = new Registry();
    const feed = createWeatherFeed({
      url: fake.url, pollIntervalMs: 3_600_000, maxAgeMs: 12 * HOUR, locationBy: 'community', defaultLocation: { lat: 45.7, lon: 122.9 },
      places: () => PLACES, store: createWeatherStore(db, logger), zones, clock, logger, registry,
      timeoutMs: options.timeoutMs ?? 2_000, maxBytes: options.maxBytes ?? 256 * 1024, every: () => () => undefined,
    });
    open.push({ feed, db });
    const metric = async (name: string) => (await registry.metrics()).split('\n').filter((l) => l.startsWith(name)).sort();
    return { feed, clock, lines, posts, metric, db };
  };

  it('fetches each place once, posts forecast rain, frost and reference ET0 into the zones, and answers the port', async () => {
    const t = setup();
    const asked = fake.requests.length;
    const summary = await t.feed.pollNow();
    expect(summary).toEqual({ places: 3, ok: 3, failed: {}, errors: [], posted: 4, operatorKept: 0 });
    const places = fake.requests.slice(asked).map((u) => `${u.searchParams.get('latitude')},${u.searchParams.get('longitude')}`).sort();
    expect(places).toEqual(['45.5800,122.8400', '45.6500,122.8400', '45.7000,122.9000']);

    const validUntil = NOW + 12 * HOUR;
    expect(t.posts.sort((a, b) => a.zoneId.localeCompare(b.zoneId))).toEqual([
      { zoneId: 'z-far', rainMm: 0, minAirTempC: 14, et0MmDay: 4.8, validUntil, by: FEED_ACTOR },
      { zoneId: 'z-north', rainMm: 6, minAirTempC: 14, et0MmDay: 4.8, validUntil, by: FEED_ACTOR },
      { zoneId: 'z-north-2', rainMm: 6, minAirTempC: 14, et0MmDay: 4.8, validUntil, by: FEED_ACTOR },
      { zoneId: 'z-south', rainMm: 0, minAirTempC: -2, et0MmDay: 4.8, validUntil, by: FEED_ACTOR },
    ]);
    expect(t.feed.forZone('z-north', NOW)).toEqual({
      zoneId: 'z-north', source: 'feed', fetchedAt: NOW,
      location: { key: '45.65,122.84', lat: 45.65, lon: 122.84, from: 'community' },
      et0MmPerDay: 4.8, et0Last24hMm: 4.8,
      et0ForecastMmPerDay: [{ dayStart: MIDNIGHT + 48 * HOUR, mm: 4.8 }, { dayStart: MIDNIGHT + 72 * HOUR, mm: 4.8 }],
      rainForecastMm: 6, minAirTempC: 14, rainLast24hMm: 0, rainLast24hFrom: 'feed',
    });
    expect(t.feed.forZone('nowhere', NOW)).toEqual({ zoneId: 'nowhere', source: 'none', et0ForecastMmPerDay: [] });
    expect(await t.metric('gs_weather_fetches_total')).toEqual(['gs_weather_fetches_total{outcome="ok"} 3']);
    expect(await t.metric('gs_weather_zones')).toEqual(['gs_weather_zones{source="feed"} 4', 'gs_weather_zones{source="none"} 0', 'gs_weather_zones{source="stale"} 0']);
    expect(await t.metric('gs_weather_last_success_timestamp_seconds')).toEqual([`gs_weather_last_success_timestamp_seconds ${NOW / 1000}`]);
  });

  it.each([
    ['a malformed body', { type: 'malformed' } as FakeMode, 'bad_body', /not an Open-Meteo forecast: longitude: .*; hourly\.precipitation: Invalid input: expected array, received string$/],
    ['an oversize body (declared)', { type: 'oversize', bytes: 4 * 1024 * 1024, declared: true } as FakeMode, 'too_large', /announced 4194304 bytes, more than the 262144 allowed/],
    ['an oversize body (streamed)', { type: 'oversize', bytes: 4 * 1024 * 1024, declared: false } as FakeMode, 'too_large', /sent more than the 262144 bytes allowed/],
    ['HTTP 500', { type: 'status', status: 500 } as FakeMode, 'http_status', /answered HTTP 500: upstream model run failed/],
    ['a service that never answers', { type: 'hang' } as FakeMode, 'timeout', /did not answer within 1000 ms/],
  ])('survives %s: counted, logged, zones on their rain gauges', async (_name, mode, outcome, message) => {
    fake.set(mode);
    // Generous where the answer must not be a timeout: this machine is shared and slow at times.
    const t = setup({ timeoutMs: mode.type === 'hang' ? 1_000 : 15_000 });
    const summary = await t.feed.pollNow();
    expect(summary).toMatchObject({ places: 3, ok: 0, failed: { [outcome]: 3 }, posted: 0 });
    expect(summary.errors[0]).toMatch(message);
    expect(await t.metric('gs_weather_fetches_total')).toEqual([`gs_weather_fetches_total{outcome="${outcome}"} 3`]);
    expect(t.posts).toEqual([]);
    expect(t.feed.forZone('z-south', NOW)).toMatchObject({ source: 'none', rainLast24hMm: 2.5, rainLast24hFrom: 'gauge' });
    expect(t.feed.forZone('z-north', NOW)).toEqual({ zoneId: 'z-north', source: 'none', location: expect.objectContaining({ key: '45.65,122.84' }), et0ForecastMmPerDay: [] });
    const failed = t.lines.find((l) => l.msg === 'weather service requests failed');
    expect(failed).toMatchObject({ level: 40, failed: { [outcome]: 3 }, places: 3 });
    expect((failed?.errors as string[])[0]).toMatch(message);
    expect(t.lines.filter((l) => l.msg === 'weather unavailable: zones fall back to their rain gauges and the last known ET0')).toHaveLength(1);
  });

  it('keeps the last known ET0 past the trust window, drops forecast rain, and recovers', async () => {
    const t = setup();
    await t.feed.pollNow();
    fake.set({ type: 'status', status: 503 });
    t.clock.advance(2 * HOUR);
    await t.feed.pollNow(); // down, but 2 h old data is still trusted
    expect(t.feed.forZone('z-south', t.clock.now())).toMatchObject({ source: 'feed', fetchedAt: NOW, minAirTempC: -2 });
    expect(t.lines.some((l) => String(l.msg).startsWith('weather unavailable'))).toBe(false);

    t.clock.advance(11 * HOUR); // 13 h after the last good answer
    const posts = t.posts.length;
    await t.feed.pollNow();
    expect(t.posts).toHaveLength(posts); // nothing re-posted: the last post expired on its own at NOW + 12 h
    expect(t.feed.forZone('z-south', t.clock.now())).toEqual({
      zoneId: 'z-south', source: 'stale', fetchedAt: NOW, location: expect.objectContaining({ from: 'community' }),
      et0MmPerDay: 4.8, et0Last24hMm: 4.8, et0ForecastMmPerDay: [{ dayStart: MIDNIGHT + 48 * HOUR, mm: 4.8 }, { dayStart: MIDNIGHT + 72 * HOUR, mm: 4.8 }],
      rainLast24hMm: 2.5, rainLast24hFrom: 'gauge',
    });
    expect(await t.metric('gs_weather_zones')).toContain('gs_weather_zones{source="stale"} 4');
    expect(t.lines.filter((l) => String(l.msg).startsWith('weather unavailable'))).toHaveLength(1);

    fake.set(OK);
    const summary = await t.feed.pollNow();
    expect(summary).toMatchObject({ ok: 3, posted: 4 });
    expect(t.feed.forZone('z-south', t.clock.now())).toMatchObject({ source: 'feed', fetchedAt: NOW + 13 * HOUR });
    expect(t.lines.some((l) => l.msg === 'weather feed back')).toBe(true);
    expect(await t.metric('gs_weather_fetches_total')).toEqual(['gs_weather_fetches_total{outcome="http_status"} 6', 'gs_weather_fetches_total{outcome="ok"} 6']);
  });

  it('starts from the SQLite cache after a restart, before the service answers', async () => {
    const file = join(dir, 'restart.db');
    const first = setup({ file });
    await first.feed.pollNow();
    await first.feed.stop();
    first.db.close();
    open.splice(0);

    fake.set({ type: 'hang' });
    const second = setup({ file, timeoutMs: 30_000 });
    second.clock.advance(HOUR);
    second.feed.start(); // the poll hangs; the cache is posted at once
    expect(second.posts.map((p) => `${p.zoneId}:${p.rainMm}`).sort()).toEqual(['z-far:0', 'z-north-2:6', 'z-north:6', 'z-south:0']);
    expect(second.feed.forZone('z-north', NOW + HOUR)).toMatchObject({ source: 'feed', fetchedAt: NOW, et0MmPerDay: 4.8, rainForecastMm: 6 });
    const started = Date.now();
    await second.feed.stop(); // abandons the hanging request
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('leaves an operator\'s valid forecast alone, and takes over when it expires', async () => {
    const t = setup({ operator: new Map([['z-north', NOW + 3 * HOUR]]) });
    expect(await t.feed.pollNow()).toMatchObject({ posted: 3, operatorKept: 1 });
    expect(t.posts.map((p) => p.zoneId)).not.toContain('z-north');
    expect(await t.metric('gs_weather_operator_forecasts_kept_total')).toEqual(['gs_weather_operator_forecasts_kept_total 1']);
    t.clock.advance(4 * HOUR);
    expect(await t.feed.pollNow()).toMatchObject({ posted: 4, operatorKept: 0 });
    expect(t.posts.filter((p) => p.zoneId === 'z-north')).toHaveLength(1);
  });
});
