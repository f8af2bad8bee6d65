import { describe, expect, it } from 'vitest';
import { decideWatering } from '../../../../rules/irrigation/decide.ts';
import { defaultSettings } from '../../../../rules/irrigation/settings.ts';
import { TABLE_BANDS } from './harness.ts';
import { initialZoneState, type IrrigationEvent, type ZoneIrrigationState } from '../../../../rules/irrigation/state.ts';
import type { AlertSignal } from '../../../../contracts/alert.ts';
import type { ZoneConfig } from '../../../../contracts/zone.ts';

const lawn: ZoneConfig = { id: 'z1', communityId: 'c1', districtId: 'd1', name: '草坪', plant: 'lawn', mode: 'automatic', soil: 'loam', valveId: 'v1', areaM2: 120, rootDepthMm: 200, flowLpm: 30 };
// The threshold controller: every run below the low runs its full time (maxRunS × July's seasonal 1.3 = 13 min).
const settings = defaultSettings({ ...TABLE_BANDS, controller: 'threshold', debounceS: 0, maxRunS: 600, minIntervalS: 3600 });
const at = (day: number, local: string) => Date.parse(`2026-07-${String(10 + day).padStart(2, '0')}T${local}:00+08:00`);

function feed(events: Array<[number, IrrigationEvent]>, zone: ZoneConfig = lawn, start: ZoneIrrigationState = initialZoneState(zone.id)) {
  let state = start;
  const signals: AlertSignal[] = [];
  const stops: string[] = [];
  for (const [now, event] of events) {
    const r = decideWatering(state, event, { now, zone, settings });
    state = r.state;
    for (const a of r.actions) {
      if (a.type === 'signal') signals.push(a.signal);
      if (a.type === 'record' && a.decision.action === 'stop') stops.push(`${a.decision.reason}@${a.decision.inputs.moisture}`);
      // The valve obeys at once.
      if (a.type === 'command') state = decideWatering(state, { type: 'ack', ack: { commandId: a.command.commandId, ok: true, state: a.command.action === 'open' ? 1 : 0 } }, { now, zone, settings }).state;
    }
  }
  return { state, signals, stops };
}
const soil = (now: number, moisture: number): [number, IrrigationEvent] => [now, { type: 'soil', deviceId: 's1', at: now, moisture, temperature: 24, intervalS: 900 }];
/** A morning run: dry at 05:00, and after its full 13 minutes the zone reads `after`. */
const morning = (day: number, after: number): Array<[number, IrrigationEvent]> => [soil(at(day, '05:00'), 15), soil(at(day, '05:15'), after), soil(at(day, '05:30'), after)];

describe('a zone found infeasible at run time raises one alert that says what to change', () => {
  it('a band its soil cannot hold: raised once, cleared when the band fits', () => {
    const sand = { ...lawn, soil: 'sand' as const, band: { low: 14, high: 20 } };
    const first = feed([soil(at(0, '12:00'), 13), soil(at(0, '12:15'), 13.2), soil(at(0, '12:30'), 13.1)], sand);
    expect(first.signals).toEqual([expect.objectContaining({
      action: 'raise', kind: 'zone_infeasible', subject: 'z1', severity: 'warning',
      message: '分区 草坪(z1) 无法保持湿度区间：区间下限 14 % 高于砂土的田间持水量 12 %（数小时内就会排水降到其下）：请把下限调到 12 % 以下，或更正土壤类型 / '
        + "zone 草坪 (z1): low 14 % is above sand's field capacity 12 % (the soil drains below it within hours): lower the band's low under 12 %, or change the soil",
      details: expect.objectContaining({ cause: 'band', code: 'low_at_field_capacity' }),
    })]);
    const fixed = feed([soil(at(0, '12:45'), 13)], { ...sand, band: { low: 8, high: 14 } }, first.state);
    expect(fixed.signals).toEqual([expect.objectContaining({ action: 'clear', kind: 'zone_infeasible', subject: 'z1', reason: '分区又能保持在湿度区间内 / the zone can be held in its band again' })]);
    expect(fixed.state.raised).not.toContain('zone_infeasible');
  });

  it('runs that give all they may and leave the zone below its low, three days running: raised on the third, cleared by a run that reaches the low', () => {
    const two = feed([...morning(0, 16), ...morning(1, 16.5)]);
    expect(two.stops).toEqual(['max_run_time@16', 'max_run_time@16.5']);
    expect(two.signals).toEqual([]);
    const three = feed(morning(2, 17), lawn, two.state);
    expect(three.signals).toEqual([expect.objectContaining({
      action: 'raise', kind: 'zone_infeasible',
      message: '分区 草坪(z1) 无法保持湿度区间：连续 3 天，每次浇到允许的上限后湿度仍低于下限 20 %（最近一次浇后 17 %）：'
        + '阀门在浇水时段内给不够一天的水；请提高流量、放宽浇水时段或允许更长的单次浇水，或降低区间下限 / '
        + "zone 草坪 (z1): 3 days running, watering as long as allowed left the zone below its low 20 % (17 % after the last run): the valve cannot give this zone a day's water inside its windows; raise the flow, widen the windows or allow longer runs, or lower the band's low",
      details: expect.objectContaining({ cause: 'runs', days: 3, lastRunEndMoisture: 17 }),
    })]);
    // The same cause the next day: no second alert.
    const four = feed(morning(3, 17), lawn, three.state);
    expect(four.signals).toEqual([]);
    const recovered = feed(morning(4, 21), lawn, four.state);
    expect(recovered.signals).toEqual([expect.objectContaining({ action: 'clear', kind: 'zone_infeasible', reason: '分区又能保持在湿度区间内 / the zone can be held in its band again' })]);
  });

  it('a day without a short run breaks the streak', () => {
    const { signals } = feed([...morning(0, 16), ...morning(1, 16), ...morning(3, 16), ...morning(4, 16)]);
    expect(signals).toEqual([]);
  });

  it('a run stopped by something else (an operator\'s pause) says nothing of the valve', () => {
    const pause = (day: number): [number, IrrigationEvent] => [at(day, '05:10'), { type: 'operator', operation: { op: 'pause', by: 'op', days: 0.01 } }];
    const days = [0, 1, 2].flatMap((d) => [soil(at(d, '05:00'), 15), pause(d), soil(at(d, '05:15'), 16)]);
    const { signals, stops } = feed(days);
    expect(stops).toEqual(['paused@15', 'paused@15', 'paused@15']);
    expect(signals).toEqual([]);
  });
});
