import { describe, expect, it } from 'vitest';
import { cycleSoakOf } from '../../../../rules/irrigation/water-balance.ts';

const lawn = { plant: 'lawn' as const, areaM2: 120, rootDepthMm: 200, flowLpm: 30 }; // 15 mm/h

describe('cycle-and-soak from the zone', () => {
  it('splits a spray lawn on clay (15 mm/h on 5): on until 2 mm would stand, off until it soaked in', () => {
    expect(cycleSoakOf({ ...lawn, soil: 'clay' }, {})).toEqual({ runS: 720, soakS: 1440 });
  });

  it('splits it on loam (13 mm/h) in long cycles and short soaks, and never on sand (30 mm/h)', () => {
    expect(cycleSoakOf({ ...lawn, soil: 'loam' }, {})).toEqual({ runS: 3600, soakS: 554 });
    expect(cycleSoakOf({ ...lawn, soil: 'sand' }, {})).toBeUndefined();
  });

  it('leaves a drip zone alone when the soil keeps up (hedge, 6 L/min over 40 m² = 9 mm/h on loam)', () => {
    expect(cycleSoakOf({ plant: 'hedge', soil: 'loam', areaM2: 40, rootDepthMm: 400, flowLpm: 6 }, {})).toBeUndefined();
  });

  it('takes an operator\'s per-soil setting over its own, and null as never', () => {
    expect(cycleSoakOf({ ...lawn, soil: 'clay' }, { clay: { runS: 600, soakS: 1200 } })).toEqual({ runS: 600, soakS: 1200 });
    expect(cycleSoakOf({ ...lawn, soil: 'clay' }, { clay: null })).toBeUndefined();
  });
});
