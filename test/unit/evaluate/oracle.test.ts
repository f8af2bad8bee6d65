import { describe, expect, it } from 'vitest';
import { readInventoryFile } from '../../../inventory/files.ts';
import { createRandom } from '../../../lib/random.ts';
import { IrrigationSettings } from '../../../rules/irrigation/settings.ts';
import { cheapestRaise, oracleFrontier, waterAt } from '../../../evaluate/oracle.ts';
import { rainBetween, scenario as makeScenario } from '../../../evaluate/scenarios.ts';
import { simulate } from '../../../evaluate/simulate.ts';
import { createZoneMeter, summarize } from '../../../evaluate/metrics.ts';
import { createWorld } from '../../../firmware-sim/world.ts';
import { listDevices } from '../../../firmware-sim/fleet/spec.ts';
import { DEFAULT_CLIMATE } from '../../../firmware-sim/physics/weather.ts';
import { evaluationZones } from '../../../evaluate/zones.ts';

/*
 * The bound (npm run evaluate:bound): a schedule that knows the true soil and the weather to
 * come, replayed through the evaluation's world. What it must show to be a bound worth quoting:
 * it waters only when an hour out of band is worth something, it keeps every holdable zone in
 * band when an hour out of band is worth more than any watering, and more worth buys more
 * hours in band for more water. The season's figures are in BENCHMARKS.md.
 */
describe('evaluation bound: the best schedule knowing the future', () => {
  const inv = readInventoryFile('inventory/examples/city.yaml', { infeasibleBands: 'warn' });
  if (!inv.ok) throw new Error(JSON.stringify(inv.error.slice(0, 3)));
  const settings = IrrigationSettings.parse({});
  let next = 0;
  const { zones, fleet } = evaluationZones(inv.value, settings, (_id, i) => { if (i < next) return false; next += 44; return true; });
  const drought = makeScenario('drought', createRandom(14), 4);

  it('waters nothing when nothing is worth it, keeps every holdable zone in band when every hour is, and buys hours with water in between', async () => {
    const points = oracleFrontier({ zones, fleet, scenario: drought, seed: 14, settings, lambdas: [0, 15, 1e6], hours: 'windows' });
    const [free, mid, all] = points.map((p) => p.summary);
    expect(free!.waterL).toBe(0);
    expect(free!.inBandPct).toBeLessThan(mid!.inBandPct);
    expect(mid!.waterL).toBeGreaterThan(0);
    expect(mid!.inBandPct).toBeLessThanOrEqual(all!.inBandPct);
    expect(mid!.waterL).toBeLessThanOrEqual(all!.waterL);
    const holdable = points[2]!.rows.filter((r) => !r.marginal);
    expect(holdable.length).toBeGreaterThan(6);
    // Hours below the low: only those before the first window (the scenario starts at midnight).
    for (const r of holdable) expect(r.belowLowH, r.zoneId).toBeLessThanOrEqual(5);
    // On the same zones and sky, no timer holds the band as well.
    const rows = (await simulate('peak-timer', { zones, fleet, scenario: drought, seed: 14, settings: {}, traceZones: new Set(), explainZones: new Set() })).rows;
    expect(all!.inBandPct).toBeGreaterThan(summarize(rows).inBandPct);
  }, 60_000);

  it('waters only in the zones\' windows unless told any hour will do', () => {
    const [windows] = oracleFrontier({ zones: zones.slice(0, 3), fleet, scenario: drought, seed: 14, settings: IrrigationSettings.parse({ windows: ['* 5 * * *'] }), lambdas: [1e6], hours: 'windows' });
    const [any] = oracleFrontier({ zones: zones.slice(0, 3), fleet, scenario: drought, seed: 14, settings, lambdas: [1e6], hours: 'any' });
    // One hour a day: a run a day at most; any hour: as many as it likes, and never fewer hours in band.
    for (const r of windows!.rows) expect(r.runs).toBeLessThanOrEqual(4);
    expect(any!.summary.inBandPct).toBeGreaterThanOrEqual(windows!.summary.inBandPct);
  }, 60_000);

  it('replays in the city\'s own world: unwatered, each zone\'s hours and balance are the city world\'s, rain and all', () => {
    // λ = 0 waters nothing, so the replay is the one-zone world left alone: it must be the
    // city world left alone, zone for zone (the same initial soil from the seed, the same sky, the same meters).
    const rainy = makeScenario('cool-rain', createRandom(14), 5);
    expect(rainBetween(rainy, rainy.startMs, rainy.startMs + 5 * 86_400_000)).toBeGreaterThan(5);
    const [free] = oracleFrontier({ zones, fleet, scenario: rainy, seed: 14, settings, lambdas: [0], hours: 'windows' });
    const world = createWorld({ fleet, devices: listDevices(fleet), startMs: rainy.startMs, climate: DEFAULT_CLIMATE, rng: createRandom(14), weatherEffect: rainy.effect, misbehaviourShare: 0, stepS: 300, gridOnly: true });
    const feasible = zones.filter((z) => !z.infeasible);
    const meters = feasible.map((z) => createZoneMeter(z, false));
    for (let t = rainy.startMs + 3_600_000; t <= rainy.startMs + 5 * 86_400_000; t += 3_600_000) {
      world.advanceTo(t);
      feasible.forEach((z, i) => { const m = world.zoneMoisture(z.config.id)!; meters[i]!.sample(m, m); });
    }
    const city = feasible.map((z, i) => meters[i]!.finish(0, 0, world.zoneBalance(z.config.id)));
    expect(free!.rows).toEqual(city);
    expect(city.some((r) => r.inBandH > 0 && r.inBandH < r.hours)).toBe(true);
  }, 60_000);

  it('finds the cheapest raise within reach, as the naive minimum over every reachable point does', () => {
    const rng = createRandom(7);
    for (let trial = 0; trial < 300; trial++) {
      const w = Float64Array.from({ length: 1 + Math.floor(rng() * 30) }, () => (rng() < 0.3 ? Math.floor(rng() * 4) : rng() * 100));
      const reach = Math.floor(rng() * 35);
      const litresPerStep = rng() < 0.2 ? 0 : rng() * 10;
      const v = cheapestRaise(w, reach, litresPerStep);
      w.forEach((_, i) => {
        let best = Infinity;
        for (let j = i; j <= Math.min(w.length - 1, i + reach); j++) best = Math.min(best, (j - i) * litresPerStep + w[j]!);
        expect(v[i]).toBeCloseTo(best, 9);
      });
    }
  });

  it('holds each zone at the floor where a λ of its own can, rather than letting the thirstiest go', () => {
    const points = oracleFrontier({ zones, fleet, scenario: drought, seed: 14, settings, lambdas: [10], hours: 'windows', floorPct: 95 });
    const [cheap, floor] = points;
    expect(floor!.floorPct).toBe(95);
    expect(cheap!.summary.zonesUnder95).toBeGreaterThan(0);
    expect(floor!.summary.zonesUnder95).toBeLessThan(cheap!.summary.zonesUnder95);
    // A zone the ladder's first λ already holds keeps that λ's row; no zone is held lower than at λ = 10.
    floor!.rows.forEach((r, i) => expect(r.inBandH, r.zoneId).toBeGreaterThanOrEqual(Math.min(cheap!.rows[i]!.inBandH, 0.95 * r.hours)));
  }, 60_000);

  it('reads the water at a share in band off the frontier between the two points around it, when they are close', () => {
    const points = [{ inBandPct: 84, ratio: 0.5 }, { inBandPct: 92, ratio: 0.7 }, { inBandPct: 96, ratio: 0.9 }, { inBandPct: 98, ratio: 1.1 }];
    expect(waterAt(points, 95)).toBeCloseTo(0.7 + (3 / 4) * 0.2, 6);
    expect(waterAt(points, 97)).toBeCloseTo(1.0, 6);
    expect(waterAt(points, 99)).toBeUndefined();
    // 84 and 96 are too far apart to say what lies between.
    expect(waterAt([points[0]!, points[2]!], 95)).toBeUndefined();
  });
});
