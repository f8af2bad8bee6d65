import { describe, expect, it } from 'vitest';
import { Duration, loadScenarios, Scenario, ScenarioFile } from '../../../firmware-sim/scenarios/schema.ts';
import { planScenario, scenarioWeather } from '../../../firmware-sim/scenarios/player.ts';
import { generateFleet } from '../../../firmware-sim/fleet/generate.ts';
import { FleetSpec, listDevices } from '../../../firmware-sim/fleet/spec.ts';
import { createWorld } from '../../../firmware-sim/world.ts';
import { DEFAULT_CLIMATE } from '../../../firmware-sim/physics/weather.ts';
import { createRandom } from '../../../lib/random.ts';

const H = 3_600_000;
const START = Date.UTC(2026, 6, 10, 16, 0); // 00:00 local (UTC+8)

describe('scenario file', () => {
  it('ships the five scenarios, valid', () => {
    const file = loadScenarios();
    expect(Object.keys(file.scenarios).sort()).toEqual(['broker-restart', 'drought-week', 'gateway-outage', 'rainstorm', 'vandalism-night']);
    expect(file.scenarios['drought-week']!.duration).toBe(7 * 24 * H);
  });

  it.each([
    ['7d', 7 * 24 * H], ['1d6h', 30 * H], ['90m', 90 * 60_000], ['30s', 30_000], [3600, H], ['23h30m', 23.5 * H],
  ])('reads the duration %s', (input, ms) => {
    expect(Duration.parse(input)).toBe(ms);
  });

  it('names every problem of a bad file with its path', () => {
    const bad = ScenarioFile.safeParse({ scenarios: { 'x': { description: 'd', duration: '1d', events: [
      { type: 'weather', at: '2d', for: '1h', rainMmH: 5 },
      { type: 'impact', at: '1h', tiltDeg: 10 },
      { type: 'flood', at: '1h' },
    ] }, 'Bad Name': { description: 'd', duration: 'soon' } } });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(['scenarios.x.events.1.shockG', 'scenarios.x.events.2.type', 'scenarios.Bad Name']);
    const late = Scenario.safeParse({ description: 'd', duration: '1d', events: [{ type: 'broker_restart', at: '2d' }] });
    expect(late.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['events.0.at', 'event starts after the scenario ends']]);
    expect(Scenario.safeParse({ description: 'd', duration: 'soon' }).error?.issues[0]?.message).toMatch(/expected a duration/);
  });
});

describe('scenario player', () => {
  const storm = Scenario.parse({ description: 's', duration: '2d', events: [
    { type: 'weather', at: '6h', for: '3h', rainMmH: 25, tempOffsetC: -4 },
    { type: 'weather', at: '8h', for: '6h', rainMmH: 5 },
  ] });

  it.each([
    [5 * H, {}],
    [6 * H, { rainMmH: 25, tempOffsetC: -4 }],
    [8.5 * H, { rainMmH: 30, tempOffsetC: -4 }],
    [10 * H, { rainMmH: 5 }],
    [14 * H, {}],
  ])('adds up overlapping weather at +%i ms', (offset, effect) => {
    expect(scenarioWeather(storm, START, START + offset)).toEqual(effect);
  });

  it('knocks over the chosen share of the named facility types, repeatably', () => {
    const fleet = generateFleet({ communities: 20, zonesPerCommunity: 1, sensorsPerZone: 1, automaticShare: 0.5, districts: 2, settlingShare: 0 }, createRandom(1));
    const night = loadScenarios().scenarios['vandalism-night']!;
    const plan = planScenario(night, fleet, createRandom(5));
    const benchesHit = plan.filter((a) => a.kind === 'impact' && a.at === 22 * H);
    expect(benchesHit).toHaveLength(Math.round(40 * 0.3)); // 20 benches + 20 fitness sets
    for (const a of benchesHit) if (a.kind === 'impact') expect(Math.hypot(a.pitchDeg, a.rollDeg)).toBeCloseTo(18, 6);
    expect(planScenario(night, fleet, createRandom(5))).toEqual(plan);
  });

  it('takes a share of communities offline and brings them back', () => {
    const fleet = generateFleet({ communities: 8, zonesPerCommunity: 1, sensorsPerZone: 1, automaticShare: 0, districts: 1, settlingShare: 0 }, createRandom(1));
    const plan = planScenario(loadScenarios().scenarios['gateway-outage']!, fleet, createRandom(2));
    expect(plan.filter((a) => a.kind === 'link' && !a.up).map((a) => a.at)).toEqual([8 * H, 8 * H]);
    expect(plan.filter((a) => a.kind === 'link' && a.up).map((a) => a.at)).toEqual([14 * H, 14 * H]);
  });
});

describe('world under a scenario', () => {
  const fleet = FleetSpec.parse({ communities: [{ id: 'c', district: 'd', zones: [
    { id: 'sand', soil: 'sand', initialMoisture: 8 }, { id: 'clay', soil: 'clay', initialMoisture: 28 },
  ] }] });

  it('wets every zone in the storm and the sand sheds it soonest', () => {
    const storm = loadScenarios().scenarios.rainstorm!;
    const world = createWorld({ fleet, devices: listDevices(fleet), startMs: START, climate: DEFAULT_CLIMATE, rng: createRandom(1), weatherEffect: (t) => scenarioWeather(storm, START, t), misbehaviourShare: 0 });
    world.advanceTo(START + 6 * H);
    const before = { sand: world.zoneMoisture('sand')!, clay: world.zoneMoisture('clay')! };
    world.advanceTo(START + 15 * H);
    const after = { sand: world.zoneMoisture('sand')!, clay: world.zoneMoisture('clay')! };
    expect(after.sand).toBeGreaterThan(before.sand + 2);
    expect(after.clay).toBeGreaterThan(before.clay + 2);
    world.advanceTo(START + 40 * H);
    expect(after.sand - world.zoneMoisture('sand')!).toBeGreaterThan(after.clay - world.zoneMoisture('clay')!);
  });

  it('reports soil readings in range with ts and seq, and a settling facility drifts', () => {
    const f2 = FleetSpec.parse({ communities: [{ id: 'c', district: 'd', zones: [{ id: 'z' }], facilities: [{ id: 'p', type: 'pavilion', settlementDegPerDay: 0.5 }] }] });
    const world = createWorld({ fleet: f2, devices: listDevices(f2), startMs: START, climate: DEFAULT_CLIMATE, rng: createRandom(1), weatherEffect: () => ({}), misbehaviourShare: 0 });
    const r = JSON.parse(world.report('z-s1', START + H, 4)!);
    expect(r).toEqual(expect.objectContaining({ ts: START + H, seq: 4, moisture: expect.any(Number), temperature: expect.any(Number), ec: expect.any(Number), battery: expect.any(Number), rssi: expect.any(Number) }));
    expect(r.moisture).toBeGreaterThan(0);
    const t0 = world.facilityTilt('p')!;
    world.advanceTo(START + 10 * 24 * H);
    const t1 = world.facilityTilt('p')!;
    expect(Math.hypot(t1.pitch - t0.pitch, t1.roll - t0.roll)).toBeCloseTo(0.5 * (10 - 1 / 24), 3);
  });
});
