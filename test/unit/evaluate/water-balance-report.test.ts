import { describe, expect, it } from 'vitest';
import { createZoneMeter, summarize, type Summary } from '../../../evaluate/metrics.ts';
import { againstEtTimer } from '../../../evaluate/report.ts';
import type { ControllerName } from '../../../evaluate/simulate.ts';
import type { EvalZone } from '../../../evaluate/zones.ts';
import { ZoneConfig } from '../../../contracts/zone.ts';

const zone = (id: string, areaM2: number, infeasible?: string): EvalZone => ({
  config: ZoneConfig.parse({ id, communityId: 'c', districtId: 'd', name: id, plant: 'lawn', soil: 'sand', mode: 'automatic', valveId: `${id}-v` }),
  band: { low: 9.2, high: 14 }, areaM2, rootDepthMm: 200, flowLpm: 30, kc: 0.95, infeasible, marginal: undefined,
});

/** A zone's result with its balance (mm over its area). */
const row = (z: EvalZone, waterL: number, etMm: number, drainMm: number, runoffMm: number) => {
  const m = createZoneMeter(z, false);
  m.sample(10, 10);
  return m.finish(waterL, 1, { etMm, drainMm, runoffMm });
};

describe('evaluation: where the water went', () => {
  it.each([
    { name: 'mm over each zone\'s area', rows: [[100, 500, 40, 2], [50, 300, 10, 0]], et: 65, drain: 4.5, runoff: 0.2 },
    { name: 'infeasible zones left out', rows: [[100, 500, 40, 2]], infeasible: [[1000, 900, 900, 900]], et: 50, drain: 4, runoff: 0.2 },
  ])('sums plants\' ET, drainage and runoff in m³: $name', ({ rows, infeasible = [], et, drain, runoff }) => {
    const ok = rows.map(([area, e, d, r], i) => row(zone(`z${i}`, area!), 1000, e!, d!, r!));
    const bad = infeasible.map(([area, e, d, r], i) => row(zone(`x${i}`, area!, 'low at field capacity'), 1000, e!, d!, r!));
    const s = summarize([...ok, ...bad]);
    expect([s.etM3, s.drainM3, s.runoffM3]).toEqual([et, drain, runoff]);
  });

  it('splits the controller\'s extra water over the ET timer into transpired, drained, run off and left in the soil', () => {
    const base = summarize([]);
    const summary = {
      controller: { ...base, waterL: 110_000, etM3: 505, drainM3: 40, runoffM3: 1 },
      'peak-timer': base,
      'et-timer': { ...base, waterL: 100_000, etM3: 500, drainM3: 38, runoffM3: 1, belowLowPct: 19.3 },
    } satisfies Record<ControllerName, Summary>;
    const [line] = againstEtTimer({ summary });
    expect(line).toContain('water +10.0 m³ = plants\' ET +5.0');
    expect(line).toContain('below the low 19.3 %');
    expect(line).toContain('drained +2.0 + run off +0.0 + left in the soil +3.0 m³');
  });
});
