import { describe, expect, it } from 'vitest';
import { readInventoryFile } from '../../../inventory/files.ts';
import { createRandom } from '../../../lib/random.ts';
import { IrrigationSettings } from '../../../rules/irrigation/settings.ts';
import { oracleFrontier, waterAt } from '../../../evaluate/oracle.ts';
import { scenario as makeScenario } from '../../../evaluate/scenarios.ts';
import { simulate } from '../../../evaluate/simulate.ts';
import { summarize } from '../../../evaluate/metrics.ts';
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
    expect(all!.wiltingZoneHours).toBe(0);
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

  it('reads the water at a share in band off the frontier between the two points around it', () => {
    const points = [{ inBandPct: 84, ratio: 0.5 }, { inBandPct: 96, ratio: 0.9 }, { inBandPct: 98, ratio: 1.1 }];
    expect(waterAt(points, 95)).toBeCloseTo(0.5 + (11 / 12) * 0.4, 6);
    expect(waterAt(points, 97)).toBeCloseTo(1.0, 6);
    expect(waterAt(points, 99)).toBeUndefined();
  });
});
