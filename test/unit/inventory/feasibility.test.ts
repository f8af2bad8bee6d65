import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseInventoryText } from '../../../inventory/parse.ts';
import { formatProblem } from '../../../inventory/problems.ts';
import { bandProblem, flowShortfall } from '../../../contracts/zone-feasibility.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/inventory/${name}`, import.meta.url), 'utf8');
const Z = 'districts[0].subDistricts[0].communities[0].zones';

describe('the import refuses a band its zone\'s soil cannot hold', () => {
  it('names the file, the line, the band\'s wrong end and what to change (Chinese, then English), for every such zone at once', () => {
    const result = parseInventoryText(fixture('infeasible-bands.yaml'), 'infeasible-bands.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.map(formatProblem)).toEqual([
      `infeasible-bands.yaml:19: ${Z}[0].band.low: 区间下限 14 % 高于砂土的田间持水量 12 %（数小时内就会排水降到其下）：请把下限调到 12 % 以下，或更正土壤类型 / low 14 % is above sand's field capacity 12 % (the soil drains below it within hours): lower the band's low under 12 %, or change the soil`,
      `infeasible-bands.yaml:26: ${Z}[1].band.low: 区间下限 12 % 等于砂土的田间持水量 12 %（数小时内就会排水降到其下）：请把下限调到 12 % 以下，或更正土壤类型 / low 12 % is at sand's field capacity 12 % (the soil drains below it within hours): lower the band's low under 12 %, or change the soil`,
      `infeasible-bands.yaml:33: ${Z}[2].band.high: 区间上限 50 % 高于壤土的饱和含水量 45 %（壤土存不住这么多水）：请把上限调到 45 % 或以下，或更正土壤类型 / high 50 % is above loam's saturation 45 % (no loam holds that much water): lower the band's high to 45 % or less, or change the soil`,
      `infeasible-bands.yaml:40: ${Z}[3].band.low: 区间下限 17 % 低于黏土的凋萎点 22 %（植物在开始浇水前就会萎蔫）：请把下限调到 22 % 以上，或更正土壤类型 / low 17 % is below clay's wilting point 22 % (plants wilt before watering starts): raise the band's low above 22 %, or change the soil`,
    ]);
  });

  it('reports a bad band beside the other problems of the file', () => {
    const text = fixture('infeasible-bands.yaml').replace('valve: v2', 'valve: ghost');
    const result = parseInventoryText(text, 'f.yaml');
    expect(result.ok ? [] : result.error.map((p) => p.path)).toEqual([`${Z}[1].valve`, `${Z}[0].band.low`, `${Z}[1].band.low`, `${Z}[2].band.high`, `${Z}[3].band.low`]);
  });

  it('accepts the same zones once their bands fit their soils', () => {
    const text = fixture('infeasible-bands.yaml')
      .replace('{ low: 14, high: 20 }', '{ low: 9, high: 20 }').replace('{ low: 12, high: 18 }', '{ low: 8, high: 14 }')
      .replace('{ low: 20, high: 50 }', '{ low: 20, high: 45 }').replace('low: 17', 'low: 25');
    const result = parseInventoryText(text, 'fixed.yaml');
    expect(result.ok ? result.warnings : result.error.map(formatProblem)).toEqual([]);
  });

  it.each([
    { soil: 'sand', band: { low: 11, high: 38 }, code: undefined },
    { soil: 'sand', band: { low: 12, high: 20 }, code: 'low_at_field_capacity' },
    { soil: 'loam', band: { low: 27.9, high: 45 }, code: undefined },
    { soil: 'loam', band: { low: 20, high: 45.1 }, code: 'high_above_saturation' },
    { soil: 'loam', band: { low: 13, high: 20 }, code: 'low_at_wilting_point' },
    { soil: 'clay', band: { low: 22.5, high: 50 }, code: undefined },
    // Both ends wrong: the low is named first (the one that makes the band unholdable).
    { soil: 'clay', band: { low: 40, high: 60 }, code: 'low_at_field_capacity' },
  ] as const)('$soil $band.low–$band.high: $code', ({ soil, band, code }) => {
    expect(bandProblem(band, soil)?.code).toBe(code);
  });
});

describe('the import warns when a valve cannot give its zone a hot day\'s water inside its windows', () => {
  it('imports the file and names the zone\'s flow, what it gives and what a hot day takes', () => {
    const result = parseInventoryText(fixture('undersized-valve.yaml'), 'undersized-valve.yaml');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.warnings.map(formatProblem)).toEqual([
      `undersized-valve.yaml:19: ${Z}[0].flowLpm: the valve's 10 L/min for the 240 min a day its windows allow gives 2400 L, a hot day takes 13300 L (Kc 0.95 × 7 mm × 2000 m²): raise the flow to 56 L/min, widen the windows, or split the zone`,
    ]);
  });

  it.each([
    // lawn, 120 m² (the defaults): a hot day takes 798 L.
    { flowLpm: 30, minutes: 480, warns: false },
    { flowLpm: 1.6, minutes: 480, warns: true },
    { flowLpm: 1.7, minutes: 480, warns: false },
  ])('$flowLpm L/min for $minutes min: warns $warns', ({ flowLpm, minutes, warns }) => {
    expect(flowShortfall({ plant: 'lawn', areaM2: 120, flowLpm, wateringMinutesPerDay: minutes }) !== undefined).toBe(warns);
  });

  it('judges a manual zone\'s hand watering by no valve', () => {
    const text = fixture('undersized-valve.yaml').replace('mode: automatic\n                areaM2', 'mode: manual\n                areaM2').replace('                valve: v1\n', '').replace('{ id: v1, kind: valve, zone: z-big-lawn }', '{ id: v1, kind: valve, zone: z-fine }');
    const result = parseInventoryText(text, 'manual.yaml');
    expect(result.ok ? result.warnings : result.error.map(formatProblem)).toEqual([]);
  });
});
