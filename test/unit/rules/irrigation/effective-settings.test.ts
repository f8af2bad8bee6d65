import { describe, expect, it } from 'vitest';
import { explainSettings } from '../../../../rules/irrigation/effective-settings.ts';
import { ZoneSettingsOverride } from '../../../../rules/irrigation/settings.ts';

const zone = { plant: 'lawn' as const, soil: 'clay' as const, band: undefined, windows: undefined };

describe('a zone\'s effective settings and where each comes from', () => {
  it.each([
    // FAO-56 for lawn on clay: wilting point 22 + 0.6 × (38 − 22) = 31.6, field capacity 38 + 2.
    ['nothing set', {}, undefined, { band: [{ low: 31.6, high: 40 }, 'fao56', 'FAO-56 for lawn on clay'], windows: [['* 5-6 * * *', '* 19-20 * * *'], 'default'], dailyBudgetL: [2000, 'default'] }],
    // A deployment that sets a band table keeps it: lawn 20–30 shifted +8 for clay.
    ['a deployment band table', { soilOffset: { sand: -9, loam: 0, clay: 8 } }, undefined, { band: [{ low: 28, high: 38 }, 'plant_type'] }],
    ['the deployment', { dailyBudgetL: 3000, windows: ['* 4 * * *'] }, undefined, { windows: [['* 4 * * *'], 'deployment'], dailyBudgetL: [3000, 'deployment'] }],
    ['an override of one value', { dailyBudgetL: 3000 }, { settings: { debounceS: 0 } }, { debounceS: [0, 'zone_override'], dailyBudgetL: [3000, 'deployment'] }],
    ['an override of band and windows', {}, { band: { low: 22, high: 31 }, windows: ['* * * * *'] }, { band: [{ low: 22, high: 31 }, 'zone_override'], windows: [['* * * * *'], 'zone_override'] }],
    ['an empty override window list (falls through)', {}, { windows: [] }, { windows: [['* 5-6 * * *', '* 19-20 * * *'], 'default'] }],
  ] as const)('%s', (_name, deployment, override, expected) => {
    const view = explainSettings({ zone, deployment: deployment as never, override: override as never });
    for (const [key, [value, source, detail]] of Object.entries(expected) as Array<[string, readonly [unknown, string, string?]]>) {
      expect(view[key], key).toEqual({ value, source, ...(detail ? { detail } : {}) });
    }
  });

  it('takes the inventory\'s band and windows over the plant type and defaults', () => {
    const view = explainSettings({ zone: { ...zone, band: { low: 10, high: 20 }, windows: ['* 3 * * *'] }, deployment: {}, override: undefined });
    expect(view.band).toEqual({ value: { low: 10, high: 20 }, source: 'inventory' });
    expect(view.windows).toEqual({ value: ['* 3 * * *'], source: 'inventory' });
  });

  it('an override keeps only what the operator named (no defaults pinned over the deployment\'s)', () => {
    expect(ZoneSettingsOverride.parse({ debounceS: 0 })).toEqual({ debounceS: 0 });
  });
});
