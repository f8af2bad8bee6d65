import { describe, expect, it } from 'vitest';
import { decideWatering } from '../../../../rules/irrigation/decide.ts';
import { defaultSettings } from '../../../../rules/irrigation/settings.ts';
import { TABLE_BANDS } from './harness.ts';
import { initialZoneState, type Decision, type IrrigationEvent, type ZoneIrrigationState } from '../../../../rules/irrigation/state.ts';
import type { ZoneConfig } from '../../../../contracts/zone.ts';
import { etShare } from '../../../../rules/irrigation/water-balance.ts';

// A lawn on loam (band 20–30, field capacity 28), 120 m², roots 200 mm, 30 L/min: one point is 2 mm over 120 m² = 240 L = 8 min.
const zone: ZoneConfig = { id: 'z1', communityId: 'c1', districtId: 'd1', name: 'lawn', plant: 'lawn', mode: 'automatic', soil: 'loam', valveId: 'v1', areaM2: 120, rootDepthMm: 200, flowLpm: 30 };
// The table pinned (lawn on loam 20–30): these tests are about the decider, not the default band.
const settings = defaultSettings({ ...TABLE_BANDS, debounceS: 0 });
const at = (local: string) => Date.parse(`2026-07-10T${local}:00+08:00`);
const MIN = 60_000;

function feed(events: Array<[number, IrrigationEvent]>, z: ZoneConfig = zone, s = settings, start: ZoneIrrigationState = initialZoneState(z.id)) {
  let state = start;
  const decisions: Decision[] = [];
  const commands: string[] = [];
  for (const [now, event] of events) {
    const r = decideWatering(state, event, { now, zone: z, settings: s });
    state = r.state;
    for (const a of r.actions) {
      if (a.type === 'record') decisions.push(a.decision);
      if (a.type === 'command') commands.push(`${a.command.action}:${a.command.commandId}`);
    }
  }
  return { state, decisions, commands };
}
const soil = (now: number, moisture: number, deviceId = 's1'): [number, IrrigationEvent] => [now, { type: 'soil', deviceId, at: now, moisture, temperature: 24, intervalS: 900 }];
const both = (now: number, moisture: number) => [soil(now, moisture, 's1'), soil(now, moisture, 's2')];

describe('predictive controller', () => {
  it('waters in the morning window when the day would take the zone below its low, sized to land at the target', () => {
    // Assumed drying Kc 0.95 × ET0 5 mm = 4.75 mm/day = 2.4 points; 22 − 2.4 < 20 + 1.
    const { decisions, commands } = feed(both(at('05:00'), 22));
    const start = decisions.find((d) => d.action === 'start');
    // 22 → 23.97: low 20 + margin 1 + the day's drying to 19:00 (2.38 × 0.98 of a day's ET) with a quarter to spare;
    // 1.97 points × 240 L ÷ 30 L/min. The rest up to 27 % (field capacity 28 − 1) stays room for rain.
    expect(start).toMatchObject({ reason: 'predicted_below_low', durationS: 946 });
    expect(start?.inputs.why).toBe('predicted 19.63 % at the next window (10 Jul, 19:00), crossing 20 % at 10 Jul, 15:00 (drying 2.38 points/day: Kc 0.95 × ET0 5 mm, assumed); '
      + '16 min at 30 L/min ≈ 473 L ≈ +1.97 points to 23.97 % (enough to reach 10 Jul, 19:00 with a quarter to spare; room left for rain under 27 %; response from area and root depth)');
    expect(commands).toHaveLength(1);
  });

  it('leaves a zone that will stay in band until the next window', () => {
    expect(feed(both(at('05:00'), 26)).decisions).toEqual([]);
    // At 19:00 the next chance is 05:00: a night takes almost nothing, so 21.5 carries.
    expect(feed(both(at('19:00'), 21.5)).decisions).toEqual([]);
  });

  it('scales the drying with the forecast reference ET0: a cool day carries the zone the same start would water', () => {
    // ET0 2 mm: 0.95 × 2 mm over 200 mm = 0.95 points a day; 22 − 0.93 ≥ 20 + 1: no run (at 5 mm it waters, above).
    const cool: [number, IrrigationEvent] = [at('04:00'), { type: 'forecast', rainMm: 0, et0MmDay: 2, validUntil: at('23:00'), by: 'weather feed' }];
    expect(feed([cool, ...both(at('05:00'), 22)]).decisions).toEqual([]);
  });

  it('keeps the last known ET0 after its forecast expired', () => {
    // A hot 9 mm forecast that expired at 04:30: 24 − 4.19 < 21 waters; on the 5 mm prior, 24 − 2.33 would not.
    const hot: [number, IrrigationEvent] = [at('03:00'), { type: 'forecast', rainMm: 0, et0MmDay: 9, validUntil: at('04:30'), by: 'weather feed' }];
    expect(feed(both(at('05:00'), 24)).decisions).toEqual([]);
    const start = feed([hot, ...both(at('05:00'), 24)]).decisions.find((d) => d.action === 'start');
    expect(start?.inputs).toMatchObject({ et0MmDay: 9, et0From: 'last_known', forecastRainMm: undefined });
    expect(start?.inputs.why).toContain('drying 4.27 points/day: Kc 0.95 × ET0 9 mm, assumed (last known)');
  });

  it('counts forecast rain into the prediction', () => {
    const forecast: [number, IrrigationEvent] = [at('04:00'), { type: 'forecast', rainMm: 4, validUntil: at('23:00'), by: 'weather feed' }];
    // 4 mm × 0.8 soaking in = +1.6 points: 22 − 2.4 + 1.6 ≥ 21.
    expect(feed([forecast, ...both(at('05:00'), 22)]).decisions).toEqual([]);
  });

  it('stops the run at its target, not at the band top', () => {
    const started = feed(both(at('05:00'), 22));
    const open = started.commands[0]!.split(':')[1]!;
    const { decisions } = feed([[at('05:00') + 1000, { type: 'ack', ack: { commandId: open, ok: true, state: 1 } }], ...both(at('05:30'), 28.1)], zone, settings, started.state);
    expect(decisions.find((d) => d.action === 'stop')).toMatchObject({ reason: 'reached_target' });
  });

  it('records a skip outside the window with the forecast that made the zone due', () => {
    const { decisions } = feed(both(at('12:00'), 20.5));
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ action: 'skip', reason: 'outside_window' });
    expect(decisions[0]!.inputs.why).toMatch(/^predicted .* not now: outside_window$/);
  });

  it('learns the zone\'s drying per day of ET from its own readings, a day at a time from the FAO-56 prior', () => {
    // 3 points lost between 06:00 and 18:00 (a whole day's ET): the prior Kc 0.95 × 5 mm over 200 mm = 2.375
    // points a day moves a fifth of the way to 3, and the next day's 3 another fifth.
    const events = [...both(at('06:00'), 26), ...both(at('18:00'), 23)];
    expect(etShare(at('06:00'), at('18:00'), 'Asia/Shanghai')).toBeCloseTo(1);
    const z = { ...zone, windows: ['* 3 * * *'] };
    const one = feed(events, z);
    expect(one.state.learn?.dryPerDay).toBeCloseTo(2.5);
    const next = (local: string) => Date.parse(`2026-07-11T${local}:00+08:00`);
    const two = feed([...both(next('06:00'), 23), ...both(next('18:00'), 20)], z, settings, one.state);
    expect(two.state.learn?.dryPerDay).toBeCloseTo(2.6);
  });

  it('counts a day that read wetter as no drying, and caps a day that lost far more than the prior (noise, not the zone)', () => {
    const z = { ...zone, windows: ['* 3 * * *'] };
    // A rise of 0.4 with no rain or run is noise: 0 points that day, so the rate moves down from the prior 2.375 (keeping only losses learned noise as drying).
    expect(feed([...both(at('06:00'), 26), ...both(at('18:00'), 26.4)], z).state.learn?.dryPerDay).toBeCloseTo(1.9);
    // 10 points in a day is 4.2 × the prior: taken as 2.5 × (5.94), not as 10.
    expect(feed([...both(at('06:00'), 26), ...both(at('18:00'), 16)], z).state.learn?.dryPerDay).toBeCloseTo(2.375 + 0.2 * (2.5 * 2.375 - 2.375));
  });

  it('does not learn the drainage after rain as drying', () => {
    const z = { ...zone, windows: ['* 3 * * *'] };
    const rain: [number, IrrigationEvent] = [at('05:00'), { type: 'rain', at: at('05:00'), mm: 2 }];
    // Loam drains for a day after water came in: the 06:00–18:00 loss is not the zone's drying.
    const { state } = feed([rain, ...both(at('06:00'), 27.5), ...both(at('18:00'), 24)], z);
    expect(state.learn?.dryPerDay).toBeUndefined();
  });

  it('aims at the low itself, no margin and no reserve, when rain is forecast: the rain fills the rest', () => {
    const forecast: [number, IrrigationEvent] = [at('04:00'), { type: 'forecast', rainMm: 2, et0MmDay: 5, validUntil: at('23:00'), by: 'weather feed' }];
    // 2 mm × 0.8 = +0.8 points: 22 − 2.33 + 0.8 = 20.47 < 20 + 1 would water to 23.97 without rain; with it, the low is the floor:
    // 20 + 2.38 × 0.98 of a day's ET to 19:00 (no reserve) ≈ 22.38 → no run is due (20.47 ≥ 20).
    expect(feed([forecast, ...both(at('05:00'), 22)]).decisions).toEqual([]);
    const { decisions } = feed([forecast, ...both(at('05:00'), 21)]);
    const start = decisions.find((d) => d.action === 'start');
    expect(start?.inputs.why).toMatch(/≈ \+1\.38 points to 22\.38 % \(enough to reach 10 Jul, 19:00 at the low, 2 mm of rain forecast fills the rest; room left for rain under 27 %/);
  });

  it('learns the response to a run from the first reading after it, not from the reading it stopped on', () => {
    const started = feed(both(at('05:00'), 18));
    expect(started.decisions[0]).toMatchObject({ action: 'start' });
    const open = started.commands[0]!.split(':')[1]!;
    // The valve's auto-off ends the run at 05:20 (600 L at 30 L/min), before any sensor has read its water.
    const stopped = feed([
      [at('05:00'), { type: 'ack', ack: { commandId: open, ok: true, state: 1 } }],
      [at('05:20'), { type: 'valve', at: at('05:20'), state: 0 }],
    ], zone, settings, started.state);
    expect(stopped.decisions.at(-1)).toMatchObject({ action: 'stop', reason: 'valve_closed', volumeL: 600 });
    expect(stopped.state.learn?.pointsPerL).toBeUndefined(); // 18 → 18 at the stop says nothing
    const close = stopped.commands.at(-1)!.split(':')[1]!;
    const read = feed([[at('05:20'), { type: 'ack', ack: { commandId: close, ok: true, state: 0 } }], ...both(at('05:30'), 20.4)], zone, settings, stopped.state);
    expect(read.state.learn?.pointsPerL).toBeCloseTo(2.4 / 600);
    expect(read.state.learn?.responseRun).toBeUndefined();
  });

  it('the threshold controller stays selectable', () => {
    const threshold = defaultSettings({ ...TABLE_BANDS, debounceS: 0, controller: 'threshold' });
    expect(feed(both(at('05:00'), 22), zone, threshold).decisions).toEqual([]); // 22 is not below 20
    expect(feed(both(at('05:00'), 19.5), zone, threshold).decisions[0]).toMatchObject({ action: 'start', reason: 'below_low' });
  });
});
