import { describe, expect, it } from 'vitest';
import { FleetSpec, listDevices } from '../../../firmware-sim/fleet/spec.ts';
import { DEFAULT_CLIMATE } from '../../../firmware-sim/physics/weather.ts';
import { createWorld } from '../../../firmware-sim/world.ts';
import { createRandom } from '../../../lib/random.ts';

const START = Date.UTC(2026, 6, 14, 16); // local midnight, UTC+8
const HOUR = 3_600_000;
const fleet = FleetSpec.parse({
  communities: [{ id: 'c1', district: 'd1', rainGauge: true, zones: [{ id: 'z1', soilSensors: 1 }], facilities: [{ id: 'f1', type: 'bench' }] }],
});
const world = (options: Partial<Parameters<typeof createWorld>[0]> = {}) => createWorld({
  fleet, devices: listDevices(fleet), startMs: START, climate: DEFAULT_CLIMATE, rng: createRandom(3), weatherEffect: () => ({}), misbehaviourShare: 0, ...options,
});
const parse = (payload: string | undefined) => JSON.parse(payload ?? 'null') as Record<string, number>;

describe('simulated rain gauge', () => {
  it('is listed per community when the fleet asks for one, at its own interval', () => {
    const gauge = listDevices(fleet).find((d) => d.kind === 'rain');
    expect(gauge).toMatchObject({ id: 'c1-rain', communityId: 'c1', reportIntervalS: 1800, registration: { place: { district: 'd1', community: 'c1' } } });
  });

  it('reports the rain since its last report in whole 0.2 mm tips, and nothing when dry', () => {
    // 3 mm/h from 02:00 to 04:00: 6 mm in all.
    const w = world({ weatherEffect: (t) => (t >= START + 2 * HOUR && t < START + 4 * HOUR ? { rainMmH: 3 } : {}) });
    const reports = [1, 2, 3, 4, 5, 6].map((h, seq) => parse(w.report('c1-rain', START + h * HOUR, seq)).rainfall!);
    expect(reports[0]).toBe(0);
    expect(reports.reduce((a, b) => a + b, 0)).toBeCloseTo(6, 1);
    for (const r of reports) expect(Math.round(r * 5)).toBeCloseTo(r * 5, 6);
  });
});

describe('chosen misbehaving devices', () => {
  it('sends a clock_skew device\'s readings with exactly the chosen offset', () => {
    const w = world({ misbehaving: { 'f1-t1': { mode: 'clock_skew', skewMs: -HOUR } } });
    expect(w.misbehaviourOf('f1-t1')).toBe('clock_skew');
    expect(w.misbehaviourOf('z1-s1')).toBeUndefined();
    expect(parse(w.report('f1-t1', START + 2 * HOUR, 0)).ts).toBe(START + HOUR);
  });
});
