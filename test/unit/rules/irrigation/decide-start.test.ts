import { describe, expect, it } from 'vitest';
import { createHarness, HOUR, MIN, MORNING, NOON } from './harness.ts';

describe('decideWatering: when a run starts', () => {
  it.each([
    { moisture: 20, starts: false, why: 'exactly at low is not below it' },
    { moisture: 19.9, starts: true, why: 'just below low' },
    { moisture: 25, starts: false, why: 'inside the band' },
    { moisture: 10, starts: true, why: 'far below' },
  ])('lawn on loam (band 20–30), moisture $moisture: starts=$starts ($why)', ({ moisture, starts }) => {
    const h = createHarness();
    h.soil(moisture);
    h.advanceReporting(40 * MIN, moisture);
    expect(h.decisions().some((d) => d.action === 'start')).toBe(starts);
  });

  it('waits out the debounce period, and a recovery resets it', () => {
    const h = createHarness({ autoAck: true });
    h.soil(19);
    h.advance(15 * MIN);
    h.soil(21); // back inside the band: the dry spell ends
    h.advance(5 * MIN);
    h.soil(19); // a new dry spell starts here (t = 20 min)
    h.advance(29 * MIN);
    expect(h.summary()).toEqual([]);
    h.advance(2 * MIN);
    expect(h.summary()).toEqual(['start:below_low']);
    const start = h.decisions()[0];
    expect(start?.at).toBe(MORNING + 50 * MIN);
    expect(start?.inputs).toMatchObject({ moisture: 19, counted: ['s1'], band: { low: 20, high: 30 }, inWindow: true });
  });

  it('sends an open command with an id and a device-side auto-off covering the planned run', () => {
    const h = createHarness({ settings: { debounceS: 0 } });
    h.soil(15);
    const [open] = h.commands();
    expect(open).toMatchObject({ action: 'open', issuedAt: MORNING });
    expect(open?.commandId).toMatch(/^o-/);
    // maxRunS 1800 × June factor 1.1 = 1980 s planned, plus a 120 s grace
    expect(open?.autoOffS).toBe(1980 + 120);
    expect(h.decisions()[0]).toMatchObject({ action: 'start', durationS: 1980 });
  });

  it('skips outside the watering window once, then starts when the window opens', () => {
    const h = createHarness({ start: NOON, autoAck: true });
    h.soil(15);
    h.advanceReporting(7 * HOUR + 5 * MIN, 15); // until 19:05
    expect(h.summary()).toEqual(['skip:outside_window', 'start:below_low']);
    const start = h.decisions()[1];
    expect(new Date(start?.at ?? 0).toISOString()).toBe('2026-06-15T11:00:00.000Z'); // 19:00 in Shanghai
  });

  it('honours per-zone windows', () => {
    const h = createHarness({ start: NOON, zone: { windows: ['* 12 * * *'] }, settings: { debounceS: 0 } });
    h.soil(15);
    expect(h.summary()).toEqual(['start:below_low']);
  });

  it('an automatic zone without a valve records that once', () => {
    const h = createHarness({ zone: { valveId: undefined }, settings: { debounceS: 0 } });
    h.soil(15);
    h.advanceReporting(HOUR, 15);
    expect(h.summary()).toEqual(['skip:no_valve']);
  });

  it('stops counting a stuck sensor, and the zone waters on the healthy one', () => {
    const h = createHarness({ settings: { debounceS: 0, stuckCount: 12 }, zone: { windows: ['* * * * *'] } });
    // s2 repeats the same wet reading every 15 min; s1 (jittering) says the bed is dry
    const stuck = () => h.send({ type: 'soil', deviceId: 's2', at: h.now, moisture: 45, temperature: 20, intervalS: 900 });
    stuck();
    for (let i = 0; i < 10; i += 1) {
      h.advanceReporting(15 * MIN, 15, ['s1']);
      stuck();
    }
    expect(h.summary()).toEqual([]); // median of 15 and 45 is 30: inside the band
    h.advanceReporting(15 * MIN, 15, ['s1']);
    stuck(); // the 12th identical reading
    expect(h.summary()).toEqual(['start:below_low']);
    expect(h.decisions()[0]?.inputs).toMatchObject({ counted: ['s1'], excluded: [{ deviceId: 's2', reason: 'stuck' }] });
  });

  it('never waters blind: no start when no sensor counts', () => {
    const h = createHarness({ settings: { debounceS: 0 } });
    h.soil(0.2); // below the plausible range: excluded
    h.advance(HOUR);
    expect(h.summary()).toEqual([]);
  });

  it.each([
    { name: 'rain gauge over the lookback', event: { type: 'rain' as const, at: MORNING - 3 * HOUR, mm: 6 }, reason: 'rain' },
    { name: 'a light shower is not enough', event: { type: 'rain' as const, at: MORNING - 3 * HOUR, mm: 2 }, reason: undefined },
    { name: 'rain too long ago', event: { type: 'rain' as const, at: MORNING - 30 * HOUR, mm: 20 }, reason: undefined },
    { name: 'forecast rain', event: { type: 'forecast' as const, rainMm: 12, validUntil: MORNING + 12 * HOUR }, reason: 'rain_forecast' },
    { name: 'expired forecast', event: { type: 'forecast' as const, rainMm: 12, validUntil: MORNING - 1 }, reason: undefined },
    { name: 'forecast frost', event: { type: 'forecast' as const, rainMm: 0, minAirTempC: -2, validUntil: MORNING + 12 * HOUR }, reason: 'freeze' },
  ])('skip or not: $name', ({ event, reason }) => {
    const h = createHarness({ settings: { debounceS: 0 } });
    h.send(event);
    h.soil(15);
    expect(h.summary()).toEqual([reason ? `skip:${reason}` : 'start:below_low']);
  });

  it.each([
    { temperature: 2.5, reason: 'skip:freeze' },
    { temperature: 3, reason: 'skip:freeze' },
    { temperature: 3.5, reason: 'start:below_low' },
  ])('freezing soil at $temperature °C → $reason', ({ temperature, reason }) => {
    const h = createHarness({ settings: { debounceS: 0 } });
    h.soil(15, 's1', temperature);
    expect(h.summary()).toEqual([reason]);
    expect(h.decisions()[0]?.inputs.temperatureC).toBe(temperature);
  });

  it('records a repeated skip only once per dry spell and reason', () => {
    const h = createHarness({ settings: { debounceS: 0 } });
    h.send({ type: 'rain', at: MORNING, mm: 10 });
    h.soil(15);
    h.advanceReporting(HOUR, 15);
    expect(h.summary()).toEqual(['skip:rain']);
    expect(h.decisions()[0]?.inputs.rainMm).toBe(10);
  });

  it('a zero seasonal factor switches automatic watering off for the month', () => {
    const h = createHarness({ settings: { debounceS: 0, seasonalFactor: Array(12).fill(0) } });
    h.soil(15);
    h.advanceReporting(HOUR, 15);
    expect(h.summary()).toEqual(['skip:seasonal_off']);
    expect(h.commands()).toEqual([]);
  });

  it('applies the seasonal factor to the run length', () => {
    const winter = createHarness({ start: Date.parse('2026-01-15T05:00:00+08:00'), settings: { debounceS: 0 } });
    winter.soil(15);
    expect(winter.decisions()[0]).toMatchObject({ action: 'start', durationS: 900, inputs: { seasonalFactor: 0.5 } });
  });
});
