import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES_CONFIG, loadRulesConfig } from '../../../health/rules-config.ts';
import { ConfigError } from '../../../config/config.ts';
import { DEFAULT_FACILITY_CONFIG } from '../../../rules/facility-health/thresholds.ts';
import { DEFAULT_DEVICE_HEALTH_CONFIG } from '../../../rules/device-health/config.ts';
import { DEFAULT_SLA_MS } from '../../../alerts/work-orders/sla.ts';

const HOUR = 3_600_000;
const load = (text: string) => loadRulesConfig({ GS_RULES_CONFIG: 'r.yaml' }, () => text);
/** Every problem the file has, one per line, as main.ts prints them. */
const problems = (text: string): string[] => {
  try {
    load(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('rules config (GS_RULES_CONFIG)', () => {
  it('is the code defaults when unset, or for an empty file', () => {
    expect(loadRulesConfig({})).toBe(DEFAULT_RULES_CONFIG);
    expect(load('')).toEqual(DEFAULT_RULES_CONFIG);
    expect(load('# nothing set yet\n')).toEqual({ facilityHealth: DEFAULT_FACILITY_CONFIG, deviceHealth: DEFAULT_DEVICE_HEALTH_CONFIG, workOrderSlaMs: DEFAULT_SLA_MS });
  });

  it('overrides tilt angles per facility type; what is left out keeps its default', () => {
    const c = load(`
facilityHealth:
  byType:
    pavilion: { warningDeg: 1.5, criticalDeg: 4 }
    trellis_rope: { warningDeg: 12 }
  debounceReadings: 4
`);
    expect(c.facilityHealth.byType.pavilion).toEqual({ ...DEFAULT_FACILITY_CONFIG.byType.pavilion, warningDeg: 1.5, criticalDeg: 4 });
    expect(c.facilityHealth.byType.trellis_rope).toEqual({ ...DEFAULT_FACILITY_CONFIG.byType.trellis_rope, warningDeg: 12 });
    expect(c.facilityHealth.byType.bench).toEqual(DEFAULT_FACILITY_CONFIG.byType.bench);
    expect(c.facilityHealth).toMatchObject({ debounceReadings: 4, debounceIntervals: DEFAULT_FACILITY_CONFIG.debounceIntervals, driftWindowMs: DEFAULT_FACILITY_CONFIG.driftWindowMs });
    expect(c.deviceHealth).toEqual(DEFAULT_DEVICE_HEALTH_CONFIG);
  });

  it('reads the work-order SLA per severity in seconds, and device-health limits', () => {
    const c = load(`
workOrderSlaS: { critical: 7200, warning: 43200 }
deviceHealth: { batteryWarnPct: 30, batteryClearPct: 35, offlineAfterIntervals: 4, skewToleranceS: 300, stuckMinSpanS: 3600 }
`);
    expect(c.workOrderSlaMs).toEqual({ critical: 2 * HOUR, warning: 12 * HOUR, info: 72 * HOUR });
    expect(c.deviceHealth).toEqual({
      ...DEFAULT_DEVICE_HEALTH_CONFIG, batteryWarnPct: 30, batteryClearPct: 35, offlineAfterIntervals: 4, skewToleranceMs: 300_000, stuckMinSpanMs: HOUR,
    });
  });

  it.each([
    // One key's own schema
    ['facilityHealth: { byType: { pavillion: { warningDeg: 3 } } }',
      'r.yaml: facilityHealth.byType: unknown facility type "pavillion"; expected one of pavilion, trellis_rope, planter_trough, fitness_equipment, bench, other'],
    ['facilityHealth: { byType: { bench: { warningDeg: 0 } } }', 'r.yaml: facilityHealth.byType.bench.warningDeg: Too small: expected number to be >0'],
    ['facilityHealth: { byType: { bench: { criticalDeg: 95 } } }', 'r.yaml: facilityHealth.byType.bench.criticalDeg: Too big: expected number to be <=90'],
    ['facilityHealth: { byType: { bench: { warningDeg: "5°" } } }', 'r.yaml: facilityHealth.byType.bench.warningDeg: Invalid input: expected number, received string'],
    ['facilityHealth: { byType: { bench: { warning: 5 } } }', 'r.yaml: facilityHealth.byType.bench: Unrecognized key: "warning"'],
    ['facilityHealth: { debounceReadings: 2.5 }', 'r.yaml: facilityHealth.debounceReadings: Invalid input: expected int, received number'],
    ['workOrderSlaS: { urgent: 3600 }', 'r.yaml: workOrderSlaS: Unrecognized key: "urgent"'],
    ['workOrderSlaS: { critical: 30 }', 'r.yaml: workOrderSlaS.critical: Too small: expected number to be >=60'],
    ['workOrderSlaS: { critical: "4h" }', 'r.yaml: workOrderSlaS.critical: Invalid input: expected number, received string'],
    ['deviceHealth: { batteryWarnPct: 120 }', 'r.yaml: deviceHealth.batteryWarnPct: Too big: expected number to be <=100'],
    ['thresholds: {}', 'r.yaml: (top level): Unrecognized key: "thresholds"'],
    ['- pavilion', 'r.yaml: (top level): Invalid input: expected object, received array'],
    // Between keys, and between a key and a default it would cross
    ['facilityHealth: { byType: { pavilion: { warningDeg: 6 } } }', 'r.yaml: facilityHealth.byType.pavilion: warningDeg (6) must be below criticalDeg (5, the default)'],
    ['facilityHealth: { byType: { bench: { warningDeg: 8, criticalDeg: 8 } } }', 'r.yaml: facilityHealth.byType.bench: warningDeg (8) must be below criticalDeg (8)'],
    ['facilityHealth: { byType: { trellis_rope: { criticalDeg: 9 } } }', 'r.yaml: facilityHealth.byType.trellis_rope: warningDeg (10, the default) must be below criticalDeg (9)'],
    ['facilityHealth: { byType: { pavilion: { hysteresisDeg: 2 } } }',
      'r.yaml: facilityHealth.byType.pavilion: hysteresisDeg (2) must be below warningDeg (2, the default): a warning would never clear'],
    ['deviceHealth: { batteryWarnPct: 30 }', 'r.yaml: deviceHealth: expected batteryCriticalPct (10, the default) < batteryWarnPct (30) < batteryClearPct (25, the default)'],
    ['workOrderSlaS: { critical: 172800 }',
      'r.yaml: workOrderSlaS: expected critical (172800) ≤ warning (86400, the default) ≤ info (259200, the default) seconds: a more severe fault gets the shorter deadline'],
  ])('refuses %s: %s', (text, message) => {
    expect(problems(text)).toEqual([message]);
  });

  it('lists every problem of a file at once', () => {
    expect(problems(`
facilityHealth: { byType: { pavilion: { warningDeg: 6 }, bench: { criticalDeg: 4 } } }
workOrderSlaS: { info: 3600 }
`)).toEqual([
      'r.yaml: facilityHealth.byType.pavilion: warningDeg (6) must be below criticalDeg (5, the default)',
      'r.yaml: facilityHealth.byType.bench: warningDeg (5, the default) must be below criticalDeg (4)',
      'r.yaml: workOrderSlaS: expected critical (14400, the default) ≤ warning (86400, the default) ≤ info (3600) seconds: a more severe fault gets the shorter deadline',
    ]);
  });

  it('names the file it could not read', () => {
    expect(() => loadRulesConfig({ GS_RULES_CONFIG: '/nope/rules.yaml' })).toThrow(/^invalid configuration:\n {2}- GS_RULES_CONFIG=\/nope\/rules.yaml: cannot read or parse the file \(ENOENT/);
    expect(problems('facilityHealth: [')).toEqual([expect.stringMatching(/^GS_RULES_CONFIG=r.yaml: cannot read or parse the file/)]);
  });

  it('refuses a file nested past 64 levels before the YAML parser sees it', () => {
    expect(problems(`facilityHealth: ${'['.repeat(1_000_000)}`)).toEqual(['GS_RULES_CONFIG=r.yaml: cannot read or parse the file (r.yaml:1: nested more than 64 levels deep)']);
  });
});
