import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../config/config.ts';

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
};

describe('weather settings', () => {
  it('are off by default, with an hourly poll and a 12-hour trust window', () => {
    expect(loadConfig({})).toMatchObject({ weatherPollIntervalS: 3600, weatherMaxAgeH: 12, weatherLocationBy: 'community' });
    expect(loadConfig({}).weatherUrl).toBeUndefined();
  });

  it('read the environment', () => {
    const config = loadConfig({
      GS_WEATHER_URL: 'https://api.open-meteo.com/v1/forecast', GS_WEATHER_POLL_INTERVAL_S: '900', GS_WEATHER_MAX_AGE_H: '6',
      GS_WEATHER_LOCATION_BY: 'district', GS_WEATHER_LATITUDE: '45.62', GS_WEATHER_LONGITUDE: '122.84',
    });
    expect(config).toMatchObject({
      weatherUrl: 'https://api.open-meteo.com/v1/forecast', weatherPollIntervalS: 900, weatherMaxAgeH: 6, weatherLocationBy: 'district', weatherLatitude: 45.62, weatherLongitude: 122.84,
    });
  });

  it.each([
    [{ GS_WEATHER_URL: 'ftp://weather' }, /^GS_WEATHER_URL: expected an http\(s\) URL/],
    [{ GS_WEATHER_POLL_INTERVAL_S: '5' }, /^GS_WEATHER_POLL_INTERVAL_S: expected at least 10 \(got "5"\)$/],
    [{ GS_WEATHER_MAX_AGE_H: '0' }, /^GS_WEATHER_MAX_AGE_H: expected at least 1/],
    [{ GS_WEATHER_LOCATION_BY: 'street' }, /^GS_WEATHER_LOCATION_BY: /],
    [{ GS_WEATHER_LATITUDE: '91', GS_WEATHER_LONGITUDE: '0' }, /^GS_WEATHER_LATITUDE: expected a latitude -90\.\.90 \(got "91"\)$/],
    [{ GS_WEATHER_LATITUDE: '45' }, /^GS_WEATHER_LATITUDE and GS_WEATHER_LONGITUDE: set both or neither/],
  ])('name the variable for %j', (env, message) => {
    const found = problems(env);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it('never echo the URL, which may carry an API key', () => {
    const [problem] = problems({ GS_WEATHER_URL: 'gopher://x/?apikey=hunter2' });
    expect(problem).toMatch(/^GS_WEATHER_URL: /);
    expect(problem).not.toContain('hunter2');
  });
});
