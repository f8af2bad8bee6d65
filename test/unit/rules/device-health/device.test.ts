import { describe, expect, it } from 'vitest';
import type { AlertSignal } from '../../../../contracts/alert.ts';
import { KIND_FIELDS, type ReadingFields } from '../../../../contracts/reading.ts';
import { decideDeviceHealth, initialDeviceHealthState, type DeviceContext, type DeviceHealthState } from '../../../../rules/device-health/decide-device.ts';
import { DEFAULT_DEVICE_HEALTH_CONFIG as CONFIG } from '../../../../rules/device-health/config.ts';

const T0 = Date.UTC(2026, 5, 1);
const MIN = 60_000;
const soil: DeviceContext = { deviceId: 's-1', kind: 'soil', reportIntervalS: 900, communityId: 'c-1', districtId: 'd-1' };

interface Step { fields: ReadingFields; skewMs?: number; atMs?: number }

/** Readings every 15 min (or at `atMs`), device clock off by `skewMs`. */
function run(steps: Step[], ctx: DeviceContext = soil, state: DeviceHealthState = initialDeviceHealthState()) {
  const signals: Array<AlertSignal & { i: number }> = [];
  steps.forEach((s, i) => {
    const receivedAt = s.atMs ?? T0 + i * 15 * MIN;
    const d = decideDeviceHealth(state, { ts: receivedAt + (s.skewMs ?? 0), receivedAt, fields: s.fields }, ctx, CONFIG);
    state = d.state;
    signals.push(...d.signals.map((x) => ({ ...x, i })));
  });
  return { signals, state };
}
const moist = (values: number[], extra: ReadingFields = {}): Step[] => values.map((moisture) => ({ fields: { moisture, ...extra } }));
/** A raise by its severity, a clear by its full resolution note (why it cleared). */
const brief = (signals: Array<AlertSignal & { i: number }>) => signals.map((s) => [s.i, s.action, s.kind, s.action === 'raise' ? s.severity : s.reason]);

const H = CONFIG.implausible; // the default hold every detector uses: 3 readings over ≥ 2 intervals, cleared by 3 over ≥ 4
const battery = (values: number[]): Step[] => values.map((b, i) => ({ fields: { moisture: 20 + (i % 7) * 0.1, battery: b } }));

describe('battery', () => {
  it.each([
    [[21, 21, 21], []],
    [[20, 20], []], // not held long enough
    [[20, 20, 20], [[2, 'raise', 'battery_low', 'warning']]],
    [[10.5, 10.5, 10.5], [[2, 'raise', 'battery_low', 'warning']]],
    [[10, 10, 10], [[2, 'raise', 'battery_low', 'critical']]],
    [[19, 22, 19, 22, 19], [[4, 'raise', 'battery_low', 'warning']]], // hovering at the limit: one episode
    [[19, 30, 30, 30, 30, 30, 19], []], // one low reading, then an hour of good ones: an outlier
  ])('%j → %j', (values, expected) => {
    expect(brief(run(battery(values)).signals)).toEqual(expected);
  });

  it('escalates warning → critical once critical holds, and clears only after the clear level holds (hysteresis)', () => {
    const values = [19, 19, 19, 9, 9, 9, 22, 24, 24, 24, 24, 25, 26, 27, 26, 26]; // last low at 10: clear needs 3 good readings and 4 intervals
    expect(brief(run(battery(values)).signals)).toEqual([[2, 'raise', 'battery_low', 'warning'], [5, 'raise', 'battery_low', 'critical'], [14, 'clear', 'battery_low', '电量恢复：26 % / battery at 26 %']]);
  });
});

describe('stuck value', () => {
  const n = CONFIG.stuckReadings;
  it('raises after N identical values spanning the minimum time, clears once the value has moved on for the clear hold', () => {
    const steps = [...moist(Array(n + 2).fill(23.4)), ...moist([23.5, 23.6, 23.4, 23.5, 23.7, 23.8, 23.9])].map((s, i) => ({ ...s, atMs: T0 + i * 40 * MIN }));
    // The frozen value coming back (index n+4) restarts the clear hold.
    expect(brief(run(steps, { ...soil, reportIntervalS: 2400 }).signals)).toEqual([[n - 1, 'raise', 'sensor_stuck', 'warning'], [n + 7, 'clear', 'sensor_stuck', '读数恢复变化 / value changed']]);
  });

  it('N identical values in less than the minimum span are not stuck (fast reporting, still soil)', () => {
    const steps = moist(Array(n + 5).fill(23.4)).map((s, i) => ({ ...s, atMs: T0 + i * MIN }));
    expect(run(steps).signals).toEqual([]);
  });

  it('a tilt device is stuck only when pitch and roll both freeze', () => {
    const tilt: DeviceContext = { ...soil, deviceId: 't-1', kind: 'tilt' };
    const frozenPitch = Array.from({ length: n + 2 }, (_, i) => ({ fields: { pitch: 1.2, roll: 0.01 * i }, atMs: T0 + i * HOUR_MS }));
    expect(run(frozenPitch, tilt).signals).toEqual([]);
    const frozen = Array.from({ length: n + 2 }, (_, i) => ({ fields: { pitch: 1.2, roll: 0.3 }, atMs: T0 + i * HOUR_MS }));
    expect(brief(run(frozen, tilt).signals)).toEqual([[n - 1, 'raise', 'sensor_stuck', 'warning']]);
  });
});
const HOUR_MS = 60 * MIN;

describe('implausible values (inside the ingest\'s physical range, outside what a working probe reads)', () => {
  it.each([
    ['0 % VWC (probe out of the soil)', { moisture: 0 }, true],
    ['0.9 % VWC', { moisture: 0.9 }, true],
    ['1 % VWC', { moisture: 1 }, false],
    ['60 % VWC', { moisture: 60 }, false],
    ['61 % VWC (standing water, shorted probe)', { moisture: 61 }, true],
    ['soil at 61 °C', { moisture: 20, temperature: 61 }, true],
    ['soil at −26 °C', { moisture: 20, temperature: -26 }, true],
  ])('%s held for %s readings → alert: %s', (_name, fields, alert) => {
    const { signals } = run(Array.from({ length: H.raiseReadings }, () => ({ fields })));
    expect(brief(signals)).toEqual(alert ? [[H.raiseReadings - 1, 'raise', 'sensor_out_of_range', 'warning']] : []);
  });

  it.each([
    ['a single outlier', [80, 20, 21, 22, 23, 24, 25], []],
    ['two outliers with good readings between', [80, 20, 80, 20, 21, 22, 23, 24], []],
    ['held, then plausible for the clear hold', [80, 80, 80, 20, 21, 22, 23], [[2, 'raise'], [6, 'clear']]],
    ['held, then swinging in and out', [80, 80, 80, 20, 80, 20, 0, 20, 90, 20], [[2, 'raise']]],
  ])('%s: %j → %j', (_name, values, expected) => {
    expect(run(moist(values)).signals.map((s) => [s.i, s.action])).toEqual(expected);
  });

  it.each(Object.entries(CONFIG.plausible).flatMap(([kind, ranges]) => Object.entries(ranges).map(([field, range]) => [kind, field, range] as const)))(
    'the %s %s plausible range %j lies strictly inside the physical range the ingest enforces',
    (kind, field, [lo, hi]) => {
      const [plo, phi] = KIND_FIELDS[kind as keyof typeof KIND_FIELDS].ranges[field as keyof ReadingFields]!;
      expect(lo).toBeGreaterThanOrEqual(plo);
      expect(hi).toBeLessThan(phi);
      expect(lo > plo || hi < phi).toBe(true);
    },
  );
});

describe('a device flooding a sawtooth 0..99 % VWC, one reading every few ms (the flapping seen in the field)', () => {
  const ctx: DeviceContext = { ...soil, reportIntervalS: 10 };
  const stream = (n: number, periodMs: number): Step[] => Array.from({ length: n }, (_, i) => ({ fields: { moisture: i % 100 }, atMs: T0 + i * periodMs }));

  it.each([
    ['5 ms apart, 50 s', 5, 10_000],
    ['45 ms apart (a cycle every 4.5 s), 3 min', 45, 4_000],
    ['2 ms apart, shorter than the raise hold', 2, 5_000],
  ])('%s: at most one alert signal, never a clear while it lasts', (_name, periodMs, n) => {
    const { signals } = run(stream(n, periodMs), ctx);
    expect(signals.filter((s) => s.action === 'clear')).toEqual([]);
    const raised = signals.filter((s) => s.kind === 'sensor_out_of_range');
    expect(raised.length).toBeLessThanOrEqual(1);
    // Long enough to cover the raise hold (2 intervals = 20 s): exactly one.
    if (n * periodMs >= 2 * ctx.reportIntervalS * 1000) expect(raised).toHaveLength(1);
  });

  it('clears once the probe reads plausibly for the clear hold after the stream ends', () => {
    const flood = stream(1_000, 45);
    const after = Array.from({ length: 6 }, (_, i) => ({ fields: { moisture: 30 }, atMs: T0 + 45_000 + i * 10_000 }));
    const { signals } = run([...flood, ...after], ctx);
    expect(signals.map((s) => [s.action, s.kind, s.action === 'clear' ? s.reason : ''])).toEqual([['raise', 'sensor_out_of_range', ''], ['clear', 'sensor_out_of_range', '读数恢复合理 / values plausible again']]);
  });
});

describe('clock skew', () => {
  const tol = CONFIG.skewToleranceMs;
  it.each([
    ['ahead beyond tolerance', tol + 1_000, true],
    ['behind beyond tolerance, on cadence', -(tol + 1_000), true],
    ['ahead within tolerance', tol, false],
  ])('%s → %s', (_name, skewMs, alert) => {
    const steps = [0, 1, 2].map((i) => ({ fields: { moisture: 20 + i }, skewMs }));
    expect(brief(run(steps).signals)).toEqual(alert ? [[2, 'raise', 'clock_skew', 'info']] : []);
  });

  it('a store-and-forward burst of old readings is not skew', () => {
    // 8 readings from the last 2 hours arrive within a second after an outage.
    const arrival = T0 + 3 * HOUR_MS;
    const steps = Array.from({ length: 8 }, (_, i) => ({ fields: { moisture: 20 + i }, atMs: arrival + i * 100, skewMs: -(8 - i) * 15 * MIN }));
    const first = { fields: { moisture: 19 }, atMs: T0 };
    expect(run([first, ...steps]).signals).toEqual([]);
  });

  it('clears once the clock holds within half the tolerance', () => {
    const skews = [2, 2, 2, 0.6, 0.4, 0.4, 0.6, 0.4, 0.4, 0.4, 0.4];
    const steps = skews.map((k, i) => ({ skewMs: tol * k, fields: { moisture: 20 + i } }));
    // 0.6 × tolerance is inside the tolerance but outside half of it: still skewed, the clear hold restarts.
    expect(brief(run(steps).signals)).toEqual([[2, 'raise', 'clock_skew', 'info'], [10, 'clear', 'clock_skew', '时钟误差回到 48 秒以内 / clock within 48 s']]);
  });
});

describe('purity', () => {
  const deepFreeze = <T>(value: T): T => {
    if (value && typeof value === 'object' && !Object.isFrozen(value)) {
      Object.freeze(value);
      for (const v of Object.values(value)) deepFreeze(v);
    }
    return value;
  };

  it('never changes the state it is given, whichever detectors act', () => {
    // Low battery, a frozen value, implausible readings and a skewed clock: every detector raises, then clears.
    const raising = Array.from({ length: 30 }, (_, i) => ({ fields: { moisture: 70, battery: 5 }, skewMs: i < 10 ? CONFIG.skewToleranceMs * 2 : 0 }));
    const clearing = Array.from({ length: 12 }, (_, i) => ({ fields: { moisture: 20 + i, battery: 90 }, skewMs: 0 }));
    let state = initialDeviceHealthState();
    const kinds = new Set<string>();
    [...raising, ...clearing].forEach((s, i) => {
      const receivedAt = T0 + i * 15 * MIN;
      const before = structuredClone(state);
      // Frozen: a detector writing into the state it was given throws (ESM is strict mode).
      const d = decideDeviceHealth(deepFreeze(state), { ts: receivedAt + (s.skewMs ?? 0), receivedAt, fields: s.fields }, soil, CONFIG);
      expect(state).toEqual(before);
      for (const x of d.signals) kinds.add(`${x.action}:${x.kind}`);
      state = d.state;
    });
    expect([...kinds].sort()).toEqual(['clear:battery_low', 'clear:clock_skew', 'clear:sensor_out_of_range', 'clear:sensor_stuck', 'raise:battery_low', 'raise:clock_skew', 'raise:sensor_out_of_range', 'raise:sensor_stuck']);
  });
});

describe('alert messages: Chinese first, the device by kind and id, units and durations in words, English after', () => {
  const tilt: DeviceContext = { ...soil, deviceId: 't-1', kind: 'tilt' };
  const message = (signals: AlertSignal[], kind: string) => signals.flatMap((s) => (s.action === 'raise' && s.kind === kind ? [s.message] : []));
  it.each([
    ['battery_low', battery([10, 10, 10]), soil, '土壤传感器 s-1 电量低：10 % / device s-1: battery at 10 %'],
    ['sensor_stuck', moist(Array(25).fill(21.5)), soil, '土壤传感器 s-1 读数卡滞：湿度 21.5 %，连续 25 次不变（6 小时） / device s-1: moisture stuck at 21.5 % for 25 readings (6 h)'],
    ['sensor_stuck', Array.from({ length: 25 }, () => ({ fields: { pitch: 1.2, roll: -0.4 } })), tilt, '倾角传感器 t-1 读数卡滞：俯仰角 1.2°，横滚角 -0.4°，连续 25 次不变（6 小时） / device t-1: pitch/roll stuck at 1.2°/-0.4° for 25 readings (6 h)'],
    ['sensor_out_of_range', moist([70, 70, 70]), soil, '土壤传感器 s-1 读数不合理：湿度 70 %（30 分钟内 3 次） / device s-1: implausible moisture 70 % (3 implausible readings in 30 min)'],
    ['clock_skew', Array.from({ length: 3 }, () => ({ fields: { moisture: 20 }, skewMs: 2 * CONFIG.skewToleranceMs })), soil, '土壤传感器 s-1 时钟快了 4 分钟 / device s-1: clock 4 min ahead'],
    ['clock_skew', Array.from({ length: 3 }, () => ({ fields: { moisture: 20 }, skewMs: -CONFIG.skewToleranceMs - 90 * MIN })), soil, '土壤传感器 s-1 时钟慢了 1 小时 32 分钟 / device s-1: clock 1 h 32 min behind'],
  ])('%s', (kind, steps, ctx, expected) => {
    expect(message(run(steps as Step[], ctx).signals, kind)).toEqual([expected]);
  });
});
