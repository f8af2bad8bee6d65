import type { Random } from '../../lib/random.ts';
import type { FleetSpec } from '../fleet/spec.ts';
import type { WeatherEffect } from '../physics/weather.ts';
import type { Scenario } from './schema.ts';

/** The scenario's weather at sim time t for a run that started at startMs: overlapping effects add up. */
export function scenarioWeather(scenario: Scenario, startMs: number, t: number): WeatherEffect {
  const effect: WeatherEffect = {};
  for (const e of scenario.events) {
    if (e.type !== 'weather' || t < startMs + e.at || t >= startMs + e.at + e.for) continue;
    if (e.tempOffsetC !== undefined) effect.tempOffsetC = (effect.tempOffsetC ?? 0) + e.tempOffsetC;
    if (e.rainMmH !== undefined) effect.rainMmH = (effect.rainMmH ?? 0) + e.rainMmH;
  }
  return effect;
}

/** Something the runner must do at a sim time. */
export type ScheduledAction =
  | { at: number; kind: 'impact'; facilityId: string; pitchDeg: number; rollDeg: number; shockG: number }
  | { at: number; kind: 'link'; communityId: string; up: boolean }
  | { at: number; kind: 'broker_restart' };

/**
 * The scenario's discrete events as a timeline (offsets from the start, sim ms): which
 * facilities get hit and which communities go dark, chosen by the seeded PRNG.
 */
export function planScenario(scenario: Scenario, fleet: FleetSpec, rng: Random): ScheduledAction[] {
  const actions: ScheduledAction[] = [];
  const pickShare = <T>(items: T[], share: number): T[] => {
    const shuffled = items.map((item) => ({ item, key: rng() })).sort((a, b) => a.key - b.key).map((x) => x.item);
    return shuffled.slice(0, Math.round(items.length * share));
  };
  for (const e of scenario.events) {
    if (e.type === 'impact') {
      const facilities = fleet.communities.flatMap((c) => c.facilities).filter((f) => !e.facilityTypes || e.facilityTypes.includes(f.type));
      for (const f of pickShare(facilities, e.share)) {
        const dir = rng() * 2 * Math.PI;
        actions.push({ at: e.at, kind: 'impact', facilityId: f.id, pitchDeg: e.tiltDeg * Math.cos(dir), rollDeg: e.tiltDeg * Math.sin(dir), shockG: e.shockG });
      }
    } else if (e.type === 'outage') {
      for (const c of pickShare(fleet.communities, e.communityShare)) {
        actions.push({ at: e.at, kind: 'link', communityId: c.id, up: false }, { at: e.at + e.for, kind: 'link', communityId: c.id, up: true });
      }
    } else if (e.type === 'broker_restart') {
      actions.push({ at: e.at, kind: 'broker_restart' });
    }
  }
  return actions.sort((a, b) => a.at - b.at);
}
