import { describe, expect, it } from 'vitest';
import { buildForecastUrl, parseForecastBody } from '../../../weather/open-meteo.ts';
import { openMeteoBody } from '../../fixtures/weather/open-meteo.ts';

const HOUR = 3_600_000;
/** 2026-07-14 00:00 in UTC+8: the first daily row of a body fetched on the 15th. */
const MIDNIGHT = Date.parse('2026-07-13T16:00:00Z');

describe('buildForecastUrl', () => {
  it('asks for the variables, unix times, the place\'s time zone, and keeps the configured query (an API key)', () => {
    const url = new URL(buildForecastUrl('https://customer-api.open-meteo.com/v1/forecast?apikey=k1', 45.6234, 122.8))
    expect(url.origin + url.pathname).toBe('https://customer-api.open-meteo.com/v1/forecast');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      apikey: 'k1', latitude: '45.6234', longitude: '122.8000',
      hourly: 'et0_fao_evapotranspiration,precipitation,temperature_2m',
      daily: 'et0_fao_evapotranspiration,precipitation_sum,temperature_2m_min',
      timezone: 'auto', timeformat: 'unixtime', past_days: '1', forecast_days: '3',
    });
  });
});

describe('parseForecastBody', () => {
  it('turns an answer into hourly and daily series of instants', () => {
    const body = openMeteoBody({ firstMidnight: MIDNIGHT, rainMm: (at) => (at === MIDNIGHT + 30 * HOUR ? 4 : 0) });
    const parsed = parseForecastBody(JSON.stringify(body));
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.value.hourly).toHaveLength(96);
    expect(parsed.value.hourly[0]).toEqual({ at: MIDNIGHT + HOUR, et0Mm: 0.2, rainMm: 0, tempC: 18 });
    expect(parsed.value.daily.map((d) => d.start)).toEqual([0, 1, 2, 3].map((i) => MIDNIGHT + i * 24 * HOUR));
    expect(parsed.value.daily[1]).toEqual({ start: MIDNIGHT + 24 * HOUR, et0Mm: 4.8, rainMm: 4, minTempC: 18 });
  });

  it('reads the API\'s default ISO local times with the UTC offset', () => {
    const body = {
      latitude: 45.62, longitude: 122.84, utc_offset_seconds: 8 * 3600,
      hourly: { time: ['2026-07-14T01:00', '2026-07-14T02:00'], et0_fao_evapotranspiration: [0.1, null], precipitation: [0, 1.5] },
      daily: { time: ['2026-07-14'], et0_fao_evapotranspiration: [4.1] },
    };
    const parsed = parseForecastBody(JSON.stringify(body));
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.value.hourly).toEqual([
      { at: MIDNIGHT + HOUR, et0Mm: 0.1, rainMm: 0, tempC: null },
      { at: MIDNIGHT + 2 * HOUR, et0Mm: null, rainMm: 1.5, tempC: null },
    ]);
    expect(parsed.value.daily).toEqual([{ start: MIDNIGHT, et0Mm: 4.1, rainMm: null, minTempC: null }]);
  });

  const good = () => openMeteoBody({ firstMidnight: MIDNIGHT, days: 1 }) as any;
  it.each([
    ['not JSON', '<html>Bad gateway</html>', /^not JSON: /],
    ['an error answer', JSON.stringify({ error: true, reason: 'Latitude must be in range of -90 to 90°. Given: 145.0.' }), /^the service refused the request: Latitude must be in range/],
    ['a missing variable', JSON.stringify({ ...good(), hourly: { ...good().hourly, precipitation: undefined } }), /^not an Open-Meteo forecast: hourly\.precipitation: /],
    ['a text value', JSON.stringify({ ...good(), hourly: { ...good().hourly, precipitation: ['0.1', ...good().hourly.precipitation.slice(1)] } }), /^not an Open-Meteo forecast: hourly\.precipitation\.0: /],
    ['arrays of different lengths', JSON.stringify({ ...good(), hourly: { ...good().hourly, precipitation: [0] } }), /hourly\.precipitation: 1 values for 24 times/],
    ['no data at all', JSON.stringify({ latitude: 1, longitude: 2 }), /neither hourly nor daily data/],
    ['inches', JSON.stringify({ ...good(), hourly_units: { precipitation: 'inch' } }), /^precipitation in inch, expected mm$/],
    ['fahrenheit', JSON.stringify({ ...good(), daily_units: { temperature_2m_min: '°F' } }), /^temperature_2m_min in °F, expected °C$/],
    ['an impossible rain', JSON.stringify({ ...good(), hourly: { ...good().hourly, precipitation: good().hourly.precipitation.map(() => 9_000) } }), /^implausible values: hourly\.0\.rainMm: /],
    ['a bad date', JSON.stringify({ latitude: 1, longitude: 2, daily: { time: ['2026-13-45'], et0_fao_evapotranspiration: [1] } }), /^implausible values: daily\.0\.start: not a valid time/],
    ['times out of order', JSON.stringify({ latitude: 1, longitude: 2, daily: { time: [2e9, 1e9], et0_fao_evapotranspiration: [1, 1] } }), /daily times out of order/],
    ['a runaway series', JSON.stringify({ latitude: 1, longitude: 2, daily: { time: Array.from({ length: 1000 }, (_, i) => i), et0_fao_evapotranspiration: Array(1000).fill(1) } }), /daily\.time: more than 384 steps/],
  ])('refuses %s with a specific message', (_name, text, message) => {
    const parsed = parseForecastBody(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.kind).toBe('bad_body');
      expect(parsed.error.message).toMatch(message);
    }
  });
});
