import { describe, expect, it } from 'vitest';
import type { AlertSignal } from '../../../../contracts/alert.ts';
import { decideFacility, initialFacilityState, type FacilityContext, type FacilityState, type TiltInput } from '../../../../rules/facility-health/decide-facility.ts';
import { DEFAULT_FACILITY_CONFIG as CONFIG, resolveThresholds, type FacilityThresholds } from '../../../../rules/facility-health/thresholds.ts';
import { createRandom } from '../../../../lib/random.ts';
import { FACILITY_TYPES } from '../../../../contracts/device.ts';
import { MESSAGES } from '../../../../web/messages.ts';

const T0 = Date.UTC(2026, 5, 1);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const ctx = (type: string, baseline: { pitch: number; roll: number } | null = { pitch: 0, roll: 0 }): FacilityContext => ({
  facilityId: `f-${type}`, facilityType: type, communityId: 'c-1', districtId: 'd-1', reportIntervalS: 900, baseline: baseline ?? undefined,
});

/** Feed readings in order; returns every signal with the index of the reading that produced it. */
function run(readings: Array<Partial<TiltInput> & { pitch: number; roll?: number }>, c: FacilityContext, state: FacilityState = initialFacilityState()) {
  const signals: Array<AlertSignal & { i: number }> = [];
  let learned;
  // A continued run picks up the clock where the given state left off.
  const start = state.previous ? state.previous.ts + 15 * MIN : T0;
  readings.forEach((r, i) => {
    const d = decideFacility(state, { roll: 0, shock: undefined, ts: start + i * 15 * MIN, ...r }, c, CONFIG);
    state = d.state;
    learned ??= d.learnedBaseline;
    signals.push(...d.signals.map((s) => ({ ...s, i })));
  });
  return { signals, state, learned };
}
const raises = <S extends AlertSignal>(signals: S[], kind: string): S[] => signals.filter((s) => s.action === 'raise' && s.kind === kind);
const steady = (n: number, pitch: number) => Array.from({ length: n }, () => ({ pitch }));

describe('facility tilt from baseline', () => {
  it.each([
    ['pavilion', 1.99, undefined],
    ['pavilion', 2, 'warning'],
    ['pavilion', 4.99, 'warning'],
    ['pavilion', 5, 'critical'],
    ['trellis_rope', 9.99, undefined],
    ['trellis_rope', 10, 'warning'],
    ['trellis_rope', 20, 'critical'],
    ['bench', 5, 'warning'],
    ['unknown-type', 5, 'warning'], // falls back to "other"
  ])('%s at %s° → %s', (type, deg, severity) => {
    const { signals } = run(steady(CONFIG.debounceReadings, deg), ctx(type));
    const tilt = raises(signals, 'facility_tilt');
    if (severity) expect(tilt).toEqual([expect.objectContaining({ severity, subject: `f-${type}`, communityId: 'c-1', i: CONFIG.debounceReadings - 1 })]);
    else expect(tilt).toEqual([]);
  });

  it('measures the angle from the baseline, combining pitch and roll', () => {
    // 1.5° pitch and 1.5° roll from a (10, -3) baseline: 2.12° → a pavilion warning.
    const { signals } = run(steady(3, 11.5).map((r) => ({ ...r, roll: -1.5 })), ctx('pavilion', { pitch: 10, roll: -3 }));
    expect(raises(signals, 'facility_tilt')).toEqual([expect.objectContaining({ severity: 'warning', details: expect.objectContaining({ tiltDeg: 2.12 }) })]);
  });

  it('debounces: a level must hold for N consecutive readings', () => {
    const interrupted = run([{ pitch: 3 }, { pitch: 3 }, { pitch: 0.2 }, { pitch: 3 }, { pitch: 3 }], ctx('pavilion'));
    expect(raises(interrupted.signals, 'facility_tilt')).toEqual([]);
    const held = run([{ pitch: 3 }, { pitch: 3 }, { pitch: 0.2 }, { pitch: 3 }, { pitch: 3 }, { pitch: 3 }], ctx('pavilion'));
    expect(raises(held.signals, 'facility_tilt').map((s) => s.i)).toEqual([5]);
  });

  it.each([
    ['2.6° for 3 readings in 2 s', (i: number) => (i < 3 ? 2.6 : 0), 3_600, []],
    ['2.6° every second for 31 min, then 1.0° for 31 min', (i: number) => (i < 1_860 ? 2.6 : 1), 3_720, [[1_800, 'raise'], [3_660, 'clear']]],
    ['swinging 2.6°, 2.6°, 1.4° every second for an hour', (i: number) => (i % 3 === 2 ? 1.4 : 2.6), 3_600, []],
  ] as Array<[string, (i: number) => number, number, Array<[number, string]>]>)('a pavilion sensor flooding one reading a second: %s → %j', (_name, pitchAt, n, expected) => {
    let state = initialFacilityState();
    const seen: Array<[number, string]> = [];
    for (let i = 0; i < n; i++) {
      const d = decideFacility(state, { pitch: pitchAt(i), roll: 0, shock: undefined, ts: T0 + i * 1_000 }, ctx('pavilion'), CONFIG);
      state = d.state;
      seen.push(...d.signals.filter((x) => x.kind === 'facility_tilt').map((x): [number, string] => [i, x.action]));
    }
    // N readings must also span k report intervals (2 × 15 min): a flood cannot rush a level either way.
    expect(seen).toEqual(expected);
  });

  it('escalates warning → critical after the critical angle holds', () => {
    const { signals } = run([...steady(3, 3), ...steady(3, 6)], ctx('pavilion'));
    expect(raises(signals, 'facility_tilt').map((s) => [s.i, s.action === 'raise' && s.severity])).toEqual([[2, 'warning'], [5, 'critical']]);
  });

  it('clears with hysteresis: inside the band below the limit keeps the alert, below it clears after N readings', () => {
    const up = run(steady(3, 3), ctx('pavilion'));
    const hovering = run(steady(6, 1.6), ctx('pavilion'), up.state); // 2 − 0.5 = 1.5 still holds
    expect(hovering.signals).toEqual([]);
    const down = run(steady(3, 1.4), ctx('pavilion'), up.state);
    expect(down.signals).toEqual([expect.objectContaining({ action: 'clear', kind: 'facility_tilt', i: 2, reason: '倾斜回到偏离基准 1.4° / tilt back to 1.4° from its baseline' })]);
  });

  it('a critical level steps down to warning only below critical − hysteresis', () => {
    const up = run(steady(3, 6), ctx('pavilion'));
    expect(up.state.level).toBe('critical');
    expect(run(steady(3, 4.6), ctx('pavilion'), up.state).state.level).toBe('critical');
    expect(run(steady(3, 4.4), ctx('pavilion'), up.state).state.level).toBe('warning');
  });
});

describe('impact', () => {
  it.each([
    ['a 2° jump on a pavilion', 'warning', [{ pitch: 0 }, { pitch: 0 }, { pitch: 2 }]],
    ['a 4° jump on a pavilion', 'critical', [{ pitch: 0 }, { pitch: 4 }]],
    ['a 2.5 g shock without any angle change', 'warning', [{ pitch: 0.1 }, { pitch: 0.1, shock: 2.5 }]],
    ['a 4 g shock', 'critical', [{ pitch: 0.1, shock: 4 }]],
    // Critical starts at twice the impact thresholds (4° / 4 g on a pavilion): just under it is a warning.
    ['a 3.9° jump on a pavilion', 'warning', [{ pitch: 0 }, { pitch: 3.9 }]],
    ['a 3.9 g shock', 'warning', [{ pitch: 0.1, shock: 3.9 }]],
  ])('%s → facility_impact %s', (_name, severity, readings) => {
    const { signals } = run(readings, ctx('pavilion'));
    expect(raises(signals, 'facility_impact')).toEqual([expect.objectContaining({ severity, i: readings.length - 1 })]);
    expect(raises(signals, 'facility_tilt')).toEqual([]);
  });

  it.each([
    ['a 1.9° change', [{ pitch: 0 }, { pitch: 1.9 }]],
    ['a 1.9 g shock', [{ pitch: 0.1, shock: 1.9 }]],
    ['a 7° sway of a trellis rope', [{ pitch: 0 }, { pitch: 7 }]],
  ])('%s is not an impact', (_name, readings) => {
    const type = _name.includes('trellis') ? 'trellis_rope' : 'pavilion';
    expect(raises(run(readings, ctx(type)).signals, 'facility_impact')).toEqual([]);
  });

  it('does not call a jump across a reporting gap an impact (the readings are not consecutive)', () => {
    let state = decideFacility(initialFacilityState(), { pitch: 0, roll: 0, shock: undefined, ts: T0 }, ctx('pavilion'), CONFIG).state;
    const late = decideFacility(state, { pitch: 3, roll: 0, shock: undefined, ts: T0 + 2 * HOUR }, ctx('pavilion'), CONFIG); // > 3 × 15 min
    expect(raises(late.signals, 'facility_impact')).toEqual([]);
    state = decideFacility(initialFacilityState(), { pitch: 0, roll: 0, shock: undefined, ts: T0 }, ctx('pavilion'), CONFIG).state;
    const onTime = decideFacility(state, { pitch: 3, roll: 0, shock: undefined, ts: T0 + 45 * MIN }, ctx('pavilion'), CONFIG);
    expect(raises(onTime.signals, 'facility_impact')).toHaveLength(1);
  });
});

describe('out-of-order readings', () => {
  it('ignores a replayed reading older than the last one judged (no invented jump)', () => {
    const c = ctx('pavilion');
    const now = decideFacility(initialFacilityState(), { pitch: 0, roll: 0, shock: undefined, ts: T0 + HOUR }, c, CONFIG);
    const old = decideFacility(now.state, { pitch: 4, roll: 0, shock: undefined, ts: T0 + 30 * MIN }, c, CONFIG);
    expect(old).toEqual({ state: now.state, signals: [] });
    const next = decideFacility(old.state, { pitch: 0.1, roll: 0, shock: undefined, ts: T0 + HOUR + 15 * MIN }, c, CONFIG);
    expect(next.signals).toEqual([]);
  });
});

describe('settlement vs impact', () => {
  // Hourly reports: the device's interval says so, or consecutive readings would not count as consecutive.
  const hctx = (type: string): FacilityContext => ({ ...ctx(type), reportIntervalS: 3600 });
  const hourly = (days: number, angle: (t: number) => number, noise = 0.05, seed = 7) => {
    const rnd = createRandom(seed);
    return Array.from({ length: days * 24 }, (_, h) => ({ ts: T0 + h * HOUR, pitch: angle(h * HOUR) + (rnd() - 0.5) * 2 * noise, roll: 0 }));
  };

  it('slow drift (0.3°/day on a pavilion) raises settlement once, after the minimum span, and never impact', () => {
    const { signals } = run(hourly(6, (t) => 0.3 * (t / DAY)), hctx('pavilion'));
    const settle = raises(signals, 'facility_settlement');
    expect(settle).toHaveLength(1);
    expect(settle[0]!.i).toBeGreaterThanOrEqual(3 * 24);
    expect(settle[0]).toMatchObject({ details: { degPerDay: expect.closeTo(0.3, 1) } });
    expect(raises(signals, 'facility_impact')).toEqual([]);
  });

  it('a sudden step raises impact and no settlement (the fit restarts after the step)', () => {
    const { signals } = run(hourly(6, (t) => (t >= 2 * DAY ? 3.5 : 0)), hctx('fitness_equipment'));
    expect(raises(signals, 'facility_impact')).toHaveLength(1);
    expect(raises(signals, 'facility_settlement')).toEqual([]);
  });

  it('noise without a trend raises nothing over a week', () => {
    const { signals } = run(hourly(7, () => 0.3, 0.2, 11), hctx('pavilion'));
    expect(signals).toEqual([]);
  });

  it('drift below the type threshold (0.1°/day on a pavilion) is not settlement', () => {
    expect(raises(run(hourly(7, (t) => 0.1 * (t / DAY)), hctx('pavilion')).signals, 'facility_settlement')).toEqual([]);
  });
});

describe('baseline learning', () => {
  it('learns the mean of the first stable readings, then measures tilt from it', () => {
    const c = ctx('pavilion', null);
    const r = run([{ pitch: 3, roll: 1 }, { pitch: 3.1, roll: 1.1 }, { pitch: 3.2, roll: 0.9 }, { pitch: 2.9, roll: 1 }, { pitch: 3, roll: 1 }], c);
    expect(r.learned).toEqual({ pitch: 3.04, roll: 1 });
    // A facility installed at 3° is not "tilted": no alert while learning or after.
    expect(r.signals).toEqual([]);
  });

  it('keeps learning while readings are unsteady', () => {
    const r = run([{ pitch: 0 }, { pitch: 1 }, { pitch: 0 }, { pitch: 1 }, { pitch: 0 }, { pitch: 1 }], ctx('trellis_rope', null));
    expect(r.learned).toBeUndefined();
    expect(r.state.learning).toHaveLength(CONFIG.baselineReadings);
  });
});

describe('a facility\'s own thresholds (inventory overrides) over its type\'s', () => {
  const pavilion = resolveThresholds(CONFIG, 'pavilion', { warningDeg: 1, criticalDeg: 3 });
  const own = (thresholds: FacilityThresholds | undefined): FacilityContext => ({ ...ctx('pavilion'), thresholds });

  it('replaces only the warning and critical angles; impact, shock and settlement stay the type\'s', () => {
    expect(pavilion).toEqual({ ...CONFIG.byType.pavilion, warningDeg: 1, criticalDeg: 3 });
    expect(resolveThresholds(CONFIG, 'pavilion', undefined)).toBe(CONFIG.byType.pavilion);
    expect(resolveThresholds(CONFIG, 'no-such-type', { warningDeg: 7, criticalDeg: 9 })).toEqual({ ...CONFIG.byType.other, warningDeg: 7, criticalDeg: 9 });
  });

  it('caps the hysteresis at half the overridden warning angle, so a low warning can still clear', () => {
    expect(resolveThresholds(CONFIG, 'trellis_rope', { warningDeg: 1, criticalDeg: 4 }).hysteresisDeg).toBe(0.5);
    expect(resolveThresholds(CONFIG, 'pavilion', { warningDeg: 0.4, criticalDeg: 4 }).hysteresisDeg).toBe(0.2);
    const { signals } = run([...steady(3, 0.5), ...steady(3, 0.1)], own(resolveThresholds(CONFIG, 'pavilion', { warningDeg: 0.4, criticalDeg: 4 })));
    expect(signals.map((s) => [s.action, s.i])).toEqual([['raise', 2], ['clear', 5]]);
  });

  it.each([
    ['the type\'s angles', 1.5, undefined, []],
    ['a lowered warning angle', 1.5, pavilion, [['raise', 'warning']]],
    ['a lowered critical angle', 3, pavilion, [['raise', 'critical']]],
    ['a raised warning angle', 3, resolveThresholds(CONFIG, 'pavilion', { warningDeg: 4, criticalDeg: 8 }), []],
  ])('%s: a pavilion held at %s°', (_name, deg, thresholds, expected) => {
    const { signals } = run(steady(CONFIG.debounceReadings, deg as number), own(thresholds as FacilityThresholds | undefined));
    expect(raises(signals, 'facility_tilt').map((s) => [s.action, (s as { severity?: string }).severity])).toEqual(expected);
  });

  it('names the angles it judged by in the alert', () => {
    const { signals } = run(steady(3, 1.5), own(pavilion));
    expect(raises(signals, 'facility_tilt')[0]).toMatchObject({ message: expect.stringContaining('(warning at 1°)'), details: { warningDeg: 1, criticalDeg: 3 } });
    expect(raises(signals, 'facility_tilt')[0]).toMatchObject({ message: expect.stringContaining('偏离基准倾斜 1.5°（警告阈值 1°）') });
  });
});

describe('alert messages: Chinese first, the facility by type and id, English after', () => {
  it.each([
    ['a tilt', 'facility_tilt', [{ pitch: 5.2 }, { pitch: 5.2 }, { pitch: 5.2 }], 'pavilion',
      '凉亭 f-pavilion 偏离基准倾斜 5.2°（严重阈值 5°） / pavilion f-pavilion: tilted 5.2° from its baseline (critical at 5°)'],
    ['an impact', 'facility_impact', [{ pitch: 0 }, { pitch: 2.5, shock: 1.25 }], 'pavilion',
      '凉亭 f-pavilion 受撞击：倾角突变 2.5°，冲击 1.25 g / pavilion f-pavilion: impact (2.5° change, 1.25 g shock)'],
    ['an impact on an "other" facility: the page\'s words, not its code', 'facility_impact', [{ pitch: 0 }, { pitch: 9 }], 'other',
      '其他设施 f-other 受撞击：倾角突变 9°，冲击 0 g / other facility f-other: impact (9° change, 0 g shock)'],
    ['an impact on a type with no name of its own', 'facility_impact', [{ pitch: 0 }, { pitch: 9 }], 'unknown-type',
      '设施 f-unknown-type 受撞击：倾角突变 9°，冲击 0 g / unknown-type f-unknown-type: impact (9° change, 0 g shock)'],
  ])('%s', (_name, kind, readings, type, message) => {
    expect(raises(run(readings, ctx(type)).signals, kind)).toEqual([expect.objectContaining({ message })]);
  });

  it.each(FACILITY_TYPES.map((t) => [t, MESSAGES.zh.facilityTypes[t], MESSAGES.en.facilityTypes[t]] as const))(
    'a %s is named as its page names it: %s / %s', (type, zh, en) => {
      const [impact] = raises(run([{ pitch: 0 }, { pitch: 20, shock: 20 }], ctx(type)).signals, 'facility_impact');
      expect((impact as { message: string }).message).toMatch(new RegExp(`^${zh} f-${type} 受撞击：.* / ${en} f-${type}: impact `));
    });

  it('settlement: the rate per day, the days fitted and the tilt now', () => {
    const hourly = Array.from({ length: 6 * 24 }, (_, h) => ({ ts: T0 + h * HOUR, pitch: 0.6 * (h / 24), roll: 0 }));
    const [settle] = raises(run(hourly, { ...ctx('planter_trough'), reportIntervalS: 3600 }).signals, 'facility_settlement');
    const d = (settle as { details?: unknown }).details as { degPerDay: number; days: number; tiltDeg: number };
    expect(settle).toMatchObject({
      message: `种植槽 f-planter_trough 持续沉降：每天 ${d.degPerDay}°，已 ${d.days} 天（现偏离基准 ${d.tiltDeg}°） / planter trough f-planter_trough: settling ${d.degPerDay}°/day over ${d.days} days (now ${d.tiltDeg}° from baseline)`,
    });
    expect(d.degPerDay).toBeCloseTo(0.6, 2);
  });
});
