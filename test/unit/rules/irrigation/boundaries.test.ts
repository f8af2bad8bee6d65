import { describe, expect, it } from 'vitest';
import { decideWatering } from '../../../../rules/irrigation/decide.ts';
import { defaultSettings } from '../../../../rules/irrigation/settings.ts';
import { initialZoneState, type IrrigationAction, type IrrigationEvent } from '../../../../rules/irrigation/state.ts';
import type { ZoneConfig } from '../../../../contracts/zone.ts';

/**
 * The two thresholds of a start, pinned exactly at their values through the public decider:
 * moisture held at the band's low is not below it (no start), and rain equal to the skip
 * threshold skips ("at or above"). Readings here are exact and steady, with no jitter, so a
 * `<`/`<=` or `>=`/`>` slip at either boundary changes the outcome.
 */

const MORNING = Date.parse('2026-06-15T05:00:00+08:00');
const MIN = 60_000;
const HOUR = 3_600_000;
const zone: ZoneConfig = {
  id: 'z1', communityId: 'c1', districtId: 'd1', name: 'lawn by block 3', plant: 'lawn', mode: 'automatic', soil: 'loam',
  valveId: 'v1', band: { low: 20, high: 30 }, windows: ['* * * * *'],
};
const settings = defaultSettings({ controller: 'threshold', debounceS: 30 * 60, rainSkipMm: 5, rainLookbackH: 24 });

/** Drives one zone for `ms` with a sensor reporting `moisture` every 15 minutes and a tick every minute. */
function drive(moisture: number, ms: number, before: IrrigationEvent[] = []): IrrigationAction[] {
  let state = initialZoneState(zone.id);
  const actions: IrrigationAction[] = [];
  const send = (event: IrrigationEvent, now: number) => {
    const out = decideWatering(state, event, { now, zone, settings });
    state = out.state;
    actions.push(...out.actions);
  };
  for (const e of before) send(e, MORNING);
  for (let t = MORNING; t <= MORNING + ms; t += MIN) {
    if ((t - MORNING) % (15 * MIN) === 0) send({ type: 'soil', deviceId: 's1', at: t, moisture, temperature: 20, intervalS: 900 }, t);
    send({ type: 'tick' }, t);
  }
  return actions;
}

const opens = (actions: IrrigationAction[]) => actions.filter((a) => a.type === 'command' && a.command.action === 'open');
const skips = (actions: IrrigationAction[]) => actions.flatMap((a) => (a.type === 'record' && a.decision.action === 'skip' ? [a.decision.reason] : []));

describe('irrigation start: the band low is a boundary, not a trigger', () => {
  // Two hours is four debounce periods; no valve acks here, so an open may be retried; eight identical readings stay under the stuck-sensor count.
  it('moisture held exactly at the low for two hours never opens the valve', () => {
    expect(opens(drive(20, 2 * HOUR))).toEqual([]);
  });

  it('moisture held a hair below the low opens the valve once the debounce has passed', () => {
    expect(opens(drive(19.99, 2 * HOUR)).length).toBeGreaterThan(0);
  });
});

describe('irrigation start: rain at the skip threshold skips ("at or above")', () => {
  it.each([
    { mm: 5, skipped: true },
    { mm: 4.99, skipped: false },
  ])('rain gauge total $mm mm within the lookback: skipped=$skipped', ({ mm, skipped }) => {
    const actions = drive(15, HOUR, [{ type: 'rain', at: MORNING - 3 * HOUR, mm }]);
    expect(opens(actions).length > 0).toBe(!skipped);
    expect(skips(actions).some((r) => r.includes('rain'))).toBe(skipped);
  });

  it('two showers that add up to the threshold skip as one total', () => {
    const actions = drive(15, HOUR, [{ type: 'rain', at: MORNING - 5 * HOUR, mm: 2.5 }, { type: 'rain', at: MORNING - 2 * HOUR, mm: 2.5 }]);
    expect(opens(actions)).toEqual([]);
    expect(skips(actions).some((r) => r.includes('rain'))).toBe(true);
  });
});
