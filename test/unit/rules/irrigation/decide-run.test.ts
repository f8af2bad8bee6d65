import { describe, expect, it } from 'vitest';
import { createHarness, HOUR, MIN, MORNING } from './harness.ts';

/** Moisture rising 1 % per 5 minutes from `from`, starting at `t0`. */
const rising = (t0: number, from: number) => (t: number) => from + (t - t0) / (5 * MIN);

describe('decideWatering: a run', () => {
  it('keeps watering inside the band (hysteresis) and stops exactly at high', () => {
    const h = createHarness({ autoAck: true, settings: { debounceS: 0, maxRunS: 3600 } });
    h.soil(19);
    for (const m of [22, 25, 29.9]) {
      h.advance(5 * MIN);
      h.soil(m);
      expect(h.summary()).toEqual(['start:below_low']);
    }
    h.advance(5 * MIN);
    h.soil(30);
    expect(h.summary()).toEqual(['start:below_low', 'stop:reached_high']);
    const stop = h.decisions()[1];
    expect(stop).toMatchObject({ durationS: 20 * 60, volumeL: 400, inputs: { moisture: 30 } }); // 20 min × 20 L/min nominal
    expect(h.commands().map((c) => c.action)).toEqual(['open', 'close']);
    expect(h.state.run).toBeUndefined();
  });

  it('stops at the maximum run time when the band is not reached', () => {
    const h = createHarness({ autoAck: true, settings: { debounceS: 0 } });
    h.soil(15);
    h.advanceReporting(HOUR, rising(MORNING, 15.5));
    expect(h.summary()).toEqual(['start:below_low', 'stop:max_run_time']);
    expect(h.decisions()[1]).toMatchObject({ durationS: 1980, at: MORNING + 1980_000 });
  });

  it('uses the valve-reported flow for the volume', () => {
    const h = createHarness({ autoAck: true, settings: { debounceS: 0, maxRunS: 600, seasonalFactor: Array(12).fill(1) } });
    h.soil(15);
    h.send({ type: 'valve', at: h.now, state: 1, flowLpm: 12 });
    h.advance(11 * MIN);
    expect(h.decisions()[1]).toMatchObject({ action: 'stop', reason: 'max_run_time', durationS: 600, volumeL: 120 });
  });

  it('keeps running on the other sensor when one goes stale, and stops when none is fresh', () => {
    // A loam lawn's spray (15 mm/h over loam's 13) would soak after an hour: not what this is about.
    const h = createHarness({ autoAck: true, settings: { debounceS: 0, maxRunS: 4 * 3600, cycleSoak: { loam: null } } });
    h.soil(15, 's1');
    h.soil(15, 's2');
    expect(h.summary()).toEqual(['start:below_low']);
    // s1 keeps reporting, s2 falls silent: stale after 3 × 900 s
    h.advanceReporting(50 * MIN, rising(MORNING, 16), ['s1']);
    expect(h.summary()).toEqual(['start:below_low']);
    expect(h.state.run?.phase).toBe('watering');
    // now s1 falls silent too
    h.advance(46 * MIN);
    expect(h.summary()).toEqual(['start:below_low', 'stop:no_fresh_sensors']);
    expect(h.decisions()[1]?.inputs).toMatchObject({ counted: [], excluded: [{ deviceId: 's1', reason: 'stale' }, { deviceId: 's2', reason: 'stale' }] });
  });

  it('stops for rain that falls during the run', () => {
    const h = createHarness({ autoAck: true, settings: { debounceS: 0 } });
    h.soil(15);
    h.advanceReporting(10 * MIN, rising(MORNING, 16));
    h.send({ type: 'rain', at: h.now, mm: 3 });
    expect(h.summary()).toEqual(['start:below_low']);
    h.send({ type: 'rain', at: h.now, mm: 3 });
    // still dry, but it rained: the zone then waits (recorded once)
    expect(h.summary()).toEqual(['start:below_low', 'stop:rain', 'skip:rain']);
    expect(h.decisions()[1]?.inputs.rainMm).toBe(6);
  });

  it('stops when the soil freezes during the run', () => {
    const h = createHarness({ autoAck: true, settings: { debounceS: 0 } });
    h.soil(15, 's1', 6);
    h.advance(5 * MIN);
    h.soil(16.5, 's1', 1);
    expect(h.summary()).toEqual(['start:below_low', 'stop:freeze', 'skip:freeze']);
  });

  it('waits the minimum interval after a run before the next', () => {
    const h = createHarness({ autoAck: true, settings: { debounceS: 0, minIntervalS: 8 * 3600 }, zone: { windows: ['* * * * *'] } });
    h.soil(15);
    h.advance(5 * MIN);
    h.soil(31); // reached high
    h.advance(60 * MIN);
    h.soil(18);
    h.advanceReporting(6 * HOUR + 50 * MIN, 18); // until 7 h 55 min after the run
    expect(h.summary()).toEqual(['start:below_low', 'stop:reached_high', 'skip:min_interval']);
    h.advanceReporting(HOUR, 18);
    expect(h.summary().slice(0, 4)).toEqual(['start:below_low', 'stop:reached_high', 'skip:min_interval', 'start:below_low']);
    expect(h.decisions()[3]?.at).toBe(MORNING + 5 * MIN + 8 * HOUR); // the run ended at +5 min
  });

  it('respects the daily budget: a run is cut to what is left, then the zone skips', () => {
    const h = createHarness({ autoAck: true, settings: { debounceS: 0, dailyBudgetL: 300, minIntervalS: 0 }, zone: { windows: ['* * * * *'] } });
    h.soil(15);
    expect(h.decisions()[0]).toMatchObject({ action: 'start', durationS: 900 }); // 300 L at 20 L/min
    h.advanceReporting(20 * MIN, rising(MORNING, 15.5));
    h.advanceReporting(HOUR, 15);
    expect(h.summary()).toEqual(['start:below_low', 'stop:budget', 'skip:budget']);
    expect(h.decisions()[1]).toMatchObject({ at: MORNING + 15 * MIN, volumeL: 300 });
    expect(h.decisions()[2]?.inputs).toMatchObject({ budgetUsedL: 300, budgetL: 300 });
    // 24 h later the budget is back
    h.advanceReporting(24 * HOUR, 15);
    expect(h.summary().filter((s) => s === 'start:below_low')).toHaveLength(2);
  });

  it('cycles and soaks on clay as configured: water 10 min, soak 20 min, repeat until done', () => {
    const h = createHarness({ autoAck: true, zone: { soil: 'clay' }, settings: { debounceS: 0, maxRunS: 1800, seasonalFactor: Array(12).fill(1), cycleSoak: { clay: { runS: 600, soakS: 1200 } } } });
    h.soil(20); // clay shifts the lawn band to 28–38
    h.advanceReporting(2 * HOUR, rising(MORNING, 21));
    expect(h.summary()).toEqual(['start:below_low', 'soak:cycle_soak', 'resume:cycle_soak', 'soak:cycle_soak', 'resume:cycle_soak', 'stop:max_run_time']);
    const [start, soak1, resume1] = h.decisions();
    expect(start?.inputs.band).toEqual({ low: 28, high: 38 });
    expect((soak1?.at ?? 0) - (start?.at ?? 0)).toBe(10 * MIN);
    expect((resume1?.at ?? 0) - (soak1?.at ?? 0)).toBe(20 * MIN);
    expect(h.decisions()[5]).toMatchObject({ durationS: 1800 });
    expect(h.commands().map((c) => `${c.action}:${c.autoOffS ?? ''}`)).toEqual(['open:720', 'close:', 'open:720', 'close:', 'open:720', 'close:']);
  });
});
