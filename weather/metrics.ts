import { Counter, Gauge, type Registry } from 'prom-client';
import type { WeatherForZone } from '../contracts/weather.ts';

/** The feed's metrics, on the app's registry (/metrics). `zoneSources` is read at each scrape. */
export function createWeatherMetrics(registry: Registry, zoneSources: () => Iterable<WeatherForZone['source']>) {
  const registers = [registry];
  new Gauge({
    name: 'gs_weather_zones', help: 'Zones by where their weather comes from now: feed (fresh), stale (last known ET0 + rain gauges), none', labelNames: ['source'] as const, registers,
    collect() {
      const counts = { feed: 0, stale: 0, none: 0 };
      for (const source of zoneSources()) counts[source]++;
      for (const [source, n] of Object.entries(counts)) this.set({ source }, n);
    },
  });
  return {
    fetches: new Counter({ name: 'gs_weather_fetches_total', help: 'Weather service requests, by outcome (ok, timeout, too_large, network, http_status, bad_body)', labelNames: ['outcome'] as const, registers }),
    posted: new Counter({ name: 'gs_weather_forecasts_posted_total', help: 'Forecasts the weather feed posted into zones\' forecast input', registers }),
    kept: new Counter({ name: 'gs_weather_operator_forecasts_kept_total', help: 'Feed forecasts not posted because an operator\'s posted forecast was still valid', registers }),
    lastSuccess: new Gauge({ name: 'gs_weather_last_success_timestamp_seconds', help: 'When the weather service last answered well (0: never since start)', registers }),
  };
}
