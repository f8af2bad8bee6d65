import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, eventually, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { startSimValve } from '../irrigation/sim-valve.ts';
import { openMeteoBody } from '../../fixtures/weather/open-meteo.ts';
import { FEED_ACTOR } from '../../../weather/feed.ts';
import { startFakeWeather } from './fake-weather.ts';

const HOUR = 3_600_000;
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
/** Every minute a window, no debounce, quick valve supervision: decisions within the test's seconds. */
// The threshold controller's decisions are asserted (start:below_low, stop:reached_high).
const FAST = { controller: 'threshold' as const, debounceS: 0, ackTimeoutS: 2, ackRetries: 1, effectTimeoutS: 60, maxRunS: 120, minIntervalS: 3600 };

/** The service's answer around the wall clock now: 12 mm of rain three hours ahead. */
const rainyBody = () => {
  const hour = Math.floor(Date.now() / HOUR) * HOUR;
  return openMeteoBody({ firstMidnight: hour - 24 * HOUR, rainMm: (at) => (at === hour + 3 * HOUR ? 12 : 0) });
};

describe('the app with a weather feed', () => {
  let t: TestApp;
  let fake: Awaited<ReturnType<typeof startFakeWeather>>;
  const secrets = new Map<string, string>();
  const sensors = new Map<string, MqttClient>();
  let seq = 0;

  const api = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
    const res = await t.app.api.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.body.startsWith('{') || res.body.startsWith('[') ? res.json() as any : res.body };
  };
  const zone = async (zoneId: string) => {
    const place = { district: 'd1', community: 'c1', zone: zoneId, plant: 'lawn', mode: 'automatic' };
    secrets.set(`soil-${zoneId}`, await t.register({ id: `soil-${zoneId}`, kind: 'soil', place }));
    secrets.set(`valve-${zoneId}`, await t.register({ id: `valve-${zoneId}`, kind: 'valve', place }));
    expect((await api('PUT', `/api/v1/zones/${zoneId}/irrigation`, { windows: ['* * * * *'], settings: FAST })).status).toBe(200);
    const id = `soil-${zoneId}`;
    sensors.set(zoneId, await connect(t.app.mqttPort, { clientId: id, username: id, password: secrets.get(id) }));
  };
  const soil = (zoneId: string, moisture: number) =>
    publish(sensors.get(zoneId) as MqttClient, `gs/soil-${zoneId}/up`, JSON.stringify({ seq: ++seq, moisture, temperature: 21 }));
  const decisions = async (zoneId: string) => ((await api('GET', `/api/v1/zones/${zoneId}/decisions`)).body as Array<{ action: string; reason: string }>)
    .map((d) => `${d.action}:${d.reason}`).reverse();
  const forecastOf = async (zoneId: string) => (await api('GET', `/api/v1/zones/${zoneId}/irrigation`)).body.state.forecast;
  const metric = async (name: string) => ((await api('GET', '/metrics')).body as string).split('\n').filter((l) => l.startsWith(name)).sort();

  beforeAll(async () => {
    fake = await startFakeWeather({ type: 'status', status: 500 });
    t = await startTestApp({ weatherUrl: fake.url, weatherLatitude: 45.62, weatherLongitude: 122.84 }, { app: { weather: { timeoutMs: 10_000 } } });
    await zone('z-dry');
    await zone('z-rain');
  });
  afterAll(async () => {
    for (const c of sensors.values()) c.end(true);
    await t?.stop();
    await fake?.stop();
  });

  it('keeps watering on the rain gauges while the weather service fails, and shows it in /metrics', async () => {
    const weather = t.app.weather;
    if (!weather) throw new Error('the weather feed should be on with GS_WEATHER_URL set');
    expect(await weather.pollNow()).toMatchObject({ places: 1, ok: 0, failed: { http_status: 1 } });
    expect(weather.forZone('z-dry', Date.now())).toMatchObject({ source: 'none', location: { from: 'default', key: '45.62,122.84' } });

    const valve = await startSimValve(t.app.mqttPort, 'valve-z-dry', secrets.get('valve-z-dry') as string, 'ack');
    await soil('z-dry', 14);
    await eventually(() => (valve.open ? true : undefined), 10_000, 'the valve to open');
    await soil('z-dry', 31);
    await eventually(() => (!valve.open ? true : undefined), 10_000, 'the valve to close');
    await valve.stop();
    expect(await decisions('z-dry')).toEqual(['start:below_low', 'stop:reached_high']);

    // Past rain from the community's gauge stands in for the service's (3 mm: under the 5 mm rain skip).
    expect(weather.forZone('z-dry', Date.now()).rainLast24hMm).toBeUndefined(); // no gauge serves the zone yet
    const gaugeSecret = await t.register({ id: 'rain-c1', kind: 'rain', place: { district: 'd1', community: 'c1' } });
    const gauge = await connect(t.app.mqttPort, { clientId: 'rain-c1', username: 'rain-c1', password: gaugeSecret });
    sensors.set('rain-c1', gauge);
    await publish(gauge, 'gs/rain-c1/up', JSON.stringify({ seq: 1, rainfall: 3 }));
    await eventually(() => (weather.forZone('z-dry', Date.now()).rainLast24hMm === 3 ? true : undefined), 10_000, 'the gauge\'s rain');
    expect(weather.forZone('z-dry', Date.now())).toMatchObject({ source: 'none', rainLast24hMm: 3, rainLast24hFrom: 'gauge' });

    expect(await metric('gs_weather_fetches_total')).toEqual([expect.stringMatching(/^gs_weather_fetches_total\{outcome="http_status"\} [1-9]\d*$/)]);
    expect(await metric('gs_weather_zones')).toContain('gs_weather_zones{source="none"} 2');
  });

  it('posts the service\'s forecast rain into the zone, which then skips watering', async () => {
    fake.set({ type: 'ok', body: rainyBody });
    expect(await t.app.weather?.pollNow()).toMatchObject({ ok: 1, posted: 2 });
    // Today's reference ET0 comes with it: the predictive controller's drying rate scales with it.
    expect(await forecastOf('z-rain')).toMatchObject({ rainMm: 12, et0MmDay: 4.8, postedBy: FEED_ACTOR });
    await soil('z-rain', 14);
    await eventually(async () => ((await decisions('z-rain')).length > 0 ? true : undefined), 10_000, 'a decision');
    expect(await decisions('z-rain')).toEqual(['skip:rain_forecast']);
    expect(t.app.weather?.forZone('z-rain', Date.now())).toMatchObject({ source: 'feed', rainForecastMm: 12, et0MmPerDay: 4.8 });
    expect(await metric('gs_weather_zones')).toContain('gs_weather_zones{source="feed"} 2');
  });

  it('lets the manual forecast POST win while it is valid', async () => {
    const posted = await api('POST', '/api/v1/zones/z-rain/forecast', { rainMm: 0, validForH: 1 });
    expect(posted.status).toBe(202);
    expect(await forecastOf('z-rain')).toMatchObject({ rainMm: 0, postedBy: 'admin' });
    expect(await t.app.weather?.pollNow()).toMatchObject({ ok: 1, posted: 1, operatorKept: 1 });
    expect(await forecastOf('z-rain')).toMatchObject({ rainMm: 0, postedBy: 'admin' });
    expect(await forecastOf('z-dry')).toMatchObject({ rainMm: 12, postedBy: FEED_ACTOR });
    expect(await metric('gs_weather_operator_forecasts_kept_total')).toEqual(['gs_weather_operator_forecasts_kept_total 1']);
  });
});
