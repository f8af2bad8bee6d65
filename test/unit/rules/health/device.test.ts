import { describe, expect, it } from 'vitest';
import type { AlertSignal } from '../../../../contracts/alert.ts';
import type { ReadingFields } from '../../../../contracts/reading.ts';
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
const brief = (signals: Array<AlertSignal & { i: number }>) => signals.map((s) => [s.i, s.action, s.kind, s.action === 'raise' ? s.severity : '']);

describe('battery', () => {
  it.each([
    [21, []],
    [20, [[0, 'raise', 'battery_low', 'warning']]],
    [10.5, [[0, 'raise', 'battery_low', 'warning']]],
    [10, [[0, 'raise', 'battery_low', 'critical']]],
  ])('%s %% → %j', (battery, expected) => {
    expect(brief(run([{ fields: { moisture: 20, battery } }]).signals)).toEqual(expected);
  });

  it('escalates warning → critical, and clears only at the clear level (hysteresis)', () => {
    const steps = [19, 19, 9, 22, 24, 25, 24].map((battery, i) => ({ fields: { moisture: 20 + i, battery } }));
    expect(brief(run(steps).signals)).toEqual([[0, 'raise', 'battery_low', 'warning'], [2, 'raise', 'battery_low', 'critical'], [5, 'clear', 'battery_low', '']]);
  });
});

describe('stuck value', () => {
  const n = CONFIG.stuckReadings;
  it('raises after N identical values spanning the minimum time, clears when the value moves', () => {
    const steps = [...moist(Array(n + 2).fill(23.4)), ...moist([23.5])].map((s, i) => ({ ...s, fields: { ...s.fields, battery: 80 } , atMs: T0 + i * 40 * MIN }));
    expect(brief(run(steps).signals)).toEqual([[n - 1, 'raise', 'sensor_stuck', 'warning'], [n + 2, 'clear', 'sensor_stuck', '']]);
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

describe('implausible values', () => {
  it.each([
    ['0.4 % VWC (probe out of the soil)', { moisture: 0.4 }, true],
    ['0.5 % VWC', { moisture: 0.5 }, false],
    ['70 % VWC', { moisture: 70 }, false],
    ['71 % VWC (shorted probe)', { moisture: 71 }, true],
    ['soil at 61 °C', { moisture: 20, temperature: 61 }, true],
  ])('%s twice in a row → alert: %s', (_name, fields, alert) => {
    const { signals } = run([{ fields }, { fields: { ...fields } }]);
    expect(brief(signals)).toEqual(alert ? [[1, 'raise', 'sensor_out_of_range', 'warning']] : []);
  });

  it('one implausible reading is not enough; N plausible ones clear it', () => {
    expect(run(moist([80, 20, 80])).signals).toEqual([]);
    expect(brief(run(moist([80, 80, 20, 20])).signals)).toEqual([[1, 'raise', 'sensor_out_of_range', 'warning'], [3, 'clear', 'sensor_out_of_range', '']]);
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

  it('clears when the clock is back within half the tolerance', () => {
    const steps = [...[0, 1, 2].map(() => ({ skewMs: tol * 2 })), { skewMs: tol * 0.6 }, { skewMs: tol * 0.4 }].map((s, i) => ({ ...s, fields: { moisture: 20 + i } }));
    expect(brief(run(steps).signals)).toEqual([[2, 'raise', 'clock_skew', 'info'], [4, 'clear', 'clock_skew', '']]);
  });
});
