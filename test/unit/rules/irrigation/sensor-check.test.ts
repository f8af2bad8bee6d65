import { describe, expect, it } from 'vitest';
import { decideWatering } from '../../../../rules/irrigation/decide.ts';
import { computeInputs } from '../../../../rules/irrigation/inputs.ts';
import { defaultSettings } from '../../../../rules/irrigation/settings.ts';
import { TABLE_BANDS } from './harness.ts';
import { initialZoneState, type ZoneIrrigationState } from '../../../../rules/irrigation/state.ts';
import type { AlertSignal } from '../../../../contracts/alert.ts';
import type { ZoneConfig } from '../../../../contracts/zone.ts';

// A manual lawn on loam (band 20–30, field capacity 28): no runs, so only the sensors speak.
const zone: ZoneConfig = { id: 'z1', communityId: 'c1', districtId: 'd1', name: '草坪', plant: 'lawn', mode: 'manual', soil: 'loam' };
// The table pinned (lawn on loam 20–30): these tests are about the sensors, not the default band.
const settings = defaultSettings(TABLE_BANDS);
const T0 = Date.parse('2026-07-10T00:00:00+08:00');
const STEP = 15 * 60_000;
const H = 3_600_000;

/** Both sensors every 15 min for `hours`, their moisture from the hour; the temperature moves, so neither is "stuck". */
function run(hours: number, s1: (h: number) => number, s2: (h: number) => number, start: ZoneIrrigationState = initialZoneState('z1'), from = 0) {
  let state = start;
  const signals: AlertSignal[] = [];
  for (let t = from * H; t < (from + hours) * H; t += STEP) {
    const now = T0 + t;
    const h = t / H;
    for (const [deviceId, m] of [['s1', s1(h)], ['s2', s2(h)]] as const) {
      const r = decideWatering(state, { type: 'soil', deviceId, at: now, moisture: Math.round(m * 10) / 10, temperature: 24 + (t / STEP) % 7 / 10, intervalS: 900 }, { now, zone, settings });
      state = r.state;
      for (const a of r.actions) if (a.type === 'signal') signals.push(a.signal);
    }
  }
  const end = T0 + (from + hours) * H - STEP;
  return { state, signals, inputs: computeInputs(state, { now: end, zone, settings }) };
}

describe('two sensors of a zone that drift apart', () => {
  it('keep counting both while they differ only by their calibration', () => {
    const { signals, inputs } = run(48, () => 25.5, () => 24);
    expect(signals).toEqual([]);
    expect(inputs.counted).toEqual(['s1', 's2']);
  });

  it('raise one sensor_disagreement after 12 h beyond the tolerance, and leave the wetter one out when neither reads the impossible', () => {
    // s1 reads 1 point over s2, then drifts wet by 0.15 points an hour from hour 4: beyond 2 points from hour ~17.5, alert 12 h later.
    const drift = (h: number) => 25 + Math.max(0, h - 4) * 0.15;
    const before = run(29, drift, () => 24);
    expect(before.signals).toEqual([]);
    const { signals, inputs, state } = run(6.5, drift, () => 24, before.state, 29);
    expect(signals).toEqual([expect.objectContaining({ action: 'raise', kind: 'sensor_disagreement', subject: 'z1', severity: 'warning' })]);
    expect((signals[0] as { message: string }).message).toBe('分区 草坪(z1) 两个土壤探头读数不一致：s1 28.9 %，s2 24 %，相差 4.9 个百分点，比初次比对时多 3.9，已持续 12 小时；'
      + '两者读数都在壤土可能的范围内，采信较干的 s2（分区不会缺水）：s1 暂不计入分区湿度，直到两者重新一致；请检查或重新校准该探头 / '
      + 'zone 草坪 (z1): soil sensors s1 (28.9 %) and s2 (24 %) differ by 4.9 points, 3.9 more than when first compared, for 12 h; '
      + "neither reads what loam cannot hold, so the drier s2 is trusted (the zone is not starved): s1 is left out of the zone's moisture until the two agree again; check or recalibrate it");
    expect(inputs.counted).toEqual(['s2']);
    expect(inputs.excluded).toEqual([{ deviceId: 's1', reason: 'disagrees' }]);
    expect(inputs.moisture).toBe(24);
    // Recalibrated: back to its old 1 point over s2; after four readings in agreement the alert clears and s1 counts again.
    const fixed = run(2, () => 25, () => 24, state, 35.5);
    expect(fixed.signals).toEqual([expect.objectContaining({ action: 'clear', kind: 'sensor_disagreement', subject: 'z1', reason: 's1 与 s2 读数重新一致 / s1 and s2 agree again' })]);
    expect(fixed.inputs.counted).toEqual(['s1', 's2']);
  });

  it('stay one alert while the difference hovers near the tolerance; clear only well within it', () => {
    const raised = run(20, (h) => (h < 4 ? 25 : 28.5), () => 24);
    expect(raised.signals.map((x) => `${x.action}:${x.kind}`)).toEqual(['raise:sensor_disagreement']);
    const near = run(3, () => 26.8, () => 24, raised.state, 20); // 1.8 off the reference: not beyond 2, not within 1
    expect(near.signals).toEqual([]);
    expect(near.inputs.counted).toEqual(['s2']);
    const back = run(2, () => 25.3, () => 24, near.state, 23);
    expect(back.signals.map((x) => `${x.action}:${x.kind}`)).toEqual(['clear:sensor_disagreement']);
  });

  it('leave out the one that reads what its soil cannot hold, even the drier one', () => {
    // s2 falls to 5 % (under half loam's wilting point 13 %): it is the wrong one, though drier.
    const all = run(30, () => 25, (h) => (h < 4 ? 24 : 5));
    const { inputs } = all;
    // The zone read 15 % (the mean of 25 and 5): the crew was called, and released once s2 was left out.
    expect(all.signals.map((x) => `${x.action}:${x.kind}`)).toEqual(['raise:watering_needed', 'raise:sensor_disagreement', 'clear:watering_needed']);
    const signals = all.signals.filter((x) => x.kind === 'sensor_disagreement');
    expect((signals[0] as { message: string }).message).toContain('s2 读数低于壤土凋萎点 13 % 的一半，土壤不可能这么干：s2 暂不计入分区湿度');
    expect((signals[0] as { message: string }).message).toContain("s2 reads below half loam's wilting point 13 %, which the soil cannot hold: s2 is left out");
    expect(inputs.counted).toEqual(['s1']);
  });

  it('leave out one reading over field capacity long after any water', () => {
    const { signals, inputs } = run(30, (h) => (h < 4 ? 25 : 31), () => 24);
    expect((signals[0] as { message: string }).message).toContain('s1 在 8 小时未浇水未降雨后仍高于壤土的田间持水量 28 %，土壤不可能保持：s1 暂不计入分区湿度');
    expect((signals[0] as { message: string }).message).toContain("s1 reads above loam's field capacity 28 % with no water for 8 h, which the soil cannot hold");
    expect(inputs.counted).toEqual(['s2']);
  });

  it('do not flag a brief gap (a wetting front reaching one probe first)', () => {
    const { signals } = run(48, (h) => (h >= 10 && h < 18 ? 29 : 25), () => 24);
    expect(signals).toEqual([]);
  });
});

describe('a sensor whose moisture stands still through a watering', () => {
  const auto: ZoneConfig = { ...zone, mode: 'automatic', valveId: 'v1' };
  const fast = defaultSettings({ ...TABLE_BANDS, controller: 'threshold', debounceS: 0, windows: ['* * * * *'], maxRunS: 3600 });
  it('is left out as stuck once the run moved the other sensor, and counts again when it moves', () => {
    let state = initialZoneState('z1');
    const step = (now: number, event: Parameters<typeof decideWatering>[1]) => {
      const r = decideWatering(state, event, { now, zone: auto, settings: fast });
      state = r.state;
      for (const a of r.actions) {
        if (a.type === 'command') state = decideWatering(state, { type: 'ack', ack: { commandId: a.command.commandId, ok: true, state: 1 } }, { now, zone: auto, settings: fast }).state;
      }
    };
    const reading = (i: number, deviceId: string, moisture: number) => step(T0 + i * STEP, { type: 'soil', deviceId, at: T0 + i * STEP, moisture, temperature: 24 + i / 10, intervalS: 900 });
    // s1 frozen at 15 %, its temperature alive; s2 at 15 %, then rising under the water.
    for (let i = 0; i < 4; i++) { reading(i, 's1', 15); reading(i, 's2', 15 + i * 2.5); }
    const inputs = () => computeInputs(state, { now: T0 + 3 * STEP, zone: auto, settings: fast });
    expect(state.run).toBeDefined();
    expect(inputs().excluded).toEqual([{ deviceId: 's1', reason: 'stuck' }]);
    expect(inputs().moisture).toBe(22.5);
    reading(4, 's1', 15.4);
    expect(computeInputs(state, { now: T0 + 4 * STEP, zone: auto, settings: fast }).counted).toEqual(['s1', 's2']);
  });
});
