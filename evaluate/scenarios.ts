import type { Random } from '../lib/random.ts';
import type { WeatherEffect } from '../firmware-sim/physics/weather.ts';

export const SCENARIOS = ['drought', 'season', 'cool-rain', 'faults'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Scenario {
  name: ScenarioName;
  description: string;
  startMs: number;
  days: number;
  /** The weather over the scenario (the simulator's climate plus this). */
  effect: (t: number) => WeatherEffect;
  /** Sensor faults: which sensor of which zones, and how. */
  faults: boolean;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Local midnight (UTC+8, the simulator's default climate) of a date. */
const localMidnight = (iso: string) => Date.parse(`${iso}T00:00:00+08:00`);

/**
 * Rain as the Yangtze delta has it in a growing season, drawn once per run from the seed:
 * a day is wet with the month's probability (plum rains in June), a wet day has one spell of
 * 1–6 h at an exponentially distributed rate (mean 3 mm/h). May–September totals come out
 * near the region's 100–140 mm a month.
 */
export function seasonalRain(startMs: number, days: number, rng: Random, pWetByMonth: readonly number[]): Float64Array {
  const hourly = new Float64Array(days * 24);
  for (let d = 0; d < days; d++) {
    const month = new Date(startMs + d * DAY + 8 * HOUR).getUTCMonth();
    if (rng() >= (pWetByMonth[month] ?? 0.3)) continue;
    const startH = Math.floor(rng() * 24);
    const hours = 1 + Math.floor(rng() * 6);
    const rate = -3 * Math.log(1 - rng());
    for (let h = startH; h < startH + hours && d * 24 + h < hourly.length; h++) hourly[d * 24 + h] = rate;
  }
  return hourly;
}

const P_WET = [0.25, 0.3, 0.35, 0.35, 0.3, 0.45, 0.35, 0.35, 0.3, 0.25, 0.2, 0.2];

export function scenario(name: ScenarioName, rng: Random, days?: number): Scenario {
  switch (name) {
    case 'drought': {
      // firmware-sim/scenarios drought-week's weather (7 °C hotter, no rain) held for a month in July.
      return { name, description: 'drought month: drought-week weather (+7 °C, no rain) held from 1 July', startMs: localMidnight('2026-07-01'), days: days ?? 30, effect: () => ({ tempOffsetC: 7, rainMmH: 0 }), faults: false };
    }
    case 'season': {
      const startMs = localMidnight('2026-05-01');
      const n = days ?? 153;
      const rain = seasonalRain(startMs, n, rng, P_WET);
      return { name, description: 'season: 1 May – 30 September, the simulator\'s climate with seeded rain', startMs, days: n, effect: (t) => ({ rainMmH: rain[Math.floor((t - startMs) / HOUR)] ?? 0 }), faults: false };
    }
    case 'cool-rain': {
      const startMs = localMidnight('2026-06-10');
      const n = days ?? 14;
      const rain = seasonalRain(startMs, n, rng, P_WET.map(() => 0.6));
      return { name, description: 'cool rainy spell: 5 °C cooler, rain on three days in five (10 June)', startMs, days: n, effect: (t) => ({ tempOffsetC: -5, rainMmH: rain[Math.floor((t - startMs) / HOUR)] ?? 0 }), faults: false };
    }
    case 'faults':
      return { name, description: 'sensor faults in the drought: one sensor of a two-sensor zone stuck, drifting (+0.5 points/day) or dead', startMs: localMidnight('2026-07-01'), days: days ?? 14, effect: () => ({ tempOffsetC: 7, rainMmH: 0 }), faults: true };
  }
}

/** Rain over [from, to) from a scenario's effect, hour by hour (the forecast a weather feed would post). */
export function rainBetween(s: Scenario, from: number, to: number): number {
  let mm = 0;
  for (let t = from; t < to; t += HOUR) mm += s.effect(t).rainMmH ?? 0;
  return Math.round(mm * 10) / 10;
}
