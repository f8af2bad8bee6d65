import { describe, expect, it } from 'vitest';
import { DEFAULT_CLIMATE, diurnalEtShare, extraterrestrialRadiation, hargreavesEt0, weatherAt, type WeatherEffect } from '../../../firmware-sim/physics/weather.ts';
import { irrigationMmH, SOILS, stepSoil, type SoilZone } from '../../../firmware-sim/physics/soil.ts';
import { advanceTilt, applyImpact, readTilt, type TiltState } from '../../../firmware-sim/physics/tilt.ts';
import { advanceValve, applyValveCommand, closedValve } from '../../../firmware-sim/physics/valve.ts';
import { COMMAND_MAX_AGE_MS, STALE_COMMAND_ERROR } from '../../../contracts/commands.ts';
import { drainBattery } from '../../../firmware-sim/physics/battery.ts';
import { createRandom } from '../../../lib/random.ts';
import { SURFACE_STORAGE_MM } from '../../../contracts/zone.ts';
import { gaussian } from '../../../firmware-sim/physics/noise.ts';

const JULY_1 = Date.UTC(2026, 6, 1, 0, 0) - 8 * 3_600_000; // local midnight, UTC+8
const JAN_1 = Date.UTC(2026, 0, 1, 0, 0) - 8 * 3_600_000;
const HOUR = 3_600_000;
const STEP_S = 300;

const loamLawn: SoilZone = { soil: 'loam', plant: 'lawn', rootDepthMm: 300 };

/** Run the water balance over [start, start + hours) with a weather effect and an irrigation rate. */
function simulate(zone: SoilZone, moisture: number, start: number, hours: number, effect: (t: number) => WeatherEffect = () => ({}), irrigation: (t: number) => number = () => 0) {
  let m = moisture;
  let pond = 0;
  let runoff = 0;
  for (let t = start; t < start + hours * HOUR; t += STEP_S * 1000) {
    const step = stepSoil(m, zone, { weather: weatherAt(t, DEFAULT_CLIMATE, effect(t)), irrigationMmH: irrigation(t), pondMm: pond }, STEP_S);
    m = step.moisture;
    pond = step.pondMm;
    runoff += step.runoffMm;
  }
  return { moisture: m, runoff };
}

describe('infiltration', () => {
  const clayLawn: SoilZone = { soil: 'clay', plant: 'lawn', rootDepthMm: 200 };
  const night = JULY_1 + 1 * HOUR; // no ET at 01:00

  it('ponds what comes faster than the soil takes in, up to the surface storage, then runs off', () => {
    // 15 mm/h on clay's 5 for 5 min: 1.25 mm arrive, 0.42 soak in, 0.83 stand; after 20 min, 2.5 stand and the rest runs off.
    let m = 30;
    let pond = 0;
    let runoff = 0;
    for (let i = 0; i < 4; i++) {
      const s = stepSoil(m, clayLawn, { weather: { et0MmH: 0, rainMmH: 0 }, irrigationMmH: 15, pondMm: pond }, STEP_S);
      if (i === 0) expect(s.pondMm).toBeCloseTo(1.25 - 5 / 12, 6);
      m = s.moisture; pond = s.pondMm; runoff += s.runoffMm;
    }
    expect(pond).toBeCloseTo(2.5, 6);
    expect(runoff).toBeCloseTo(4 * 1.25 - 4 * (5 / 12) - 2.5, 6);
    expect(m).toBeCloseTo(30 + (100 * 4 * (5 / 12)) / 200, 6);
  });

  it('soaks the standing water in after the valve closes, so cycle-and-soak loses nothing', () => {
    let m = 30;
    let pond = 2;
    for (let t = night; t < night + HOUR; t += STEP_S * 1000) {
      const s = stepSoil(m, clayLawn, { weather: { et0MmH: 0, rainMmH: 0 }, irrigationMmH: 0, pondMm: pond }, STEP_S);
      m = s.moisture; pond = s.pondMm;
    }
    expect(pond).toBe(0);
    expect(m).toBeCloseTo(31, 6); // 2 mm over 200 mm of roots
  });
});

describe('weather', () => {
  it('matches FAO-56 example 8: Ra = 32.2 MJ m⁻² day⁻¹ at 20°S on 3 September', () => {
    expect(extraterrestrialRadiation(246, -20)).toBeCloseTo(32.2, 1);
  });

  it.each([
    ['mid-summer', JULY_1 + 12 * 24 * HOUR, 3.5, 6.5],
    ['mid-winter', JAN_1 + 15 * 24 * HOUR, 0.3, 1.8],
  ])('gives a plausible Hargreaves ET0 in %s (mm/day)', (_name, t, lo, hi) => {
    const w = weatherAt(t, DEFAULT_CLIMATE);
    const doy = Math.floor((t + 8 * HOUR - Date.UTC(2026, 0, 1)) / 86_400_000) + 1;
    const et0 = hargreavesEt0(doy, 31, w.dailyMeanC - 4, w.dailyMeanC + 4);
    expect(et0).toBeGreaterThan(lo);
    expect(et0).toBeLessThan(hi);
  });

  it('spreads the daily ET0 over daylight only, integrating to one day', () => {
    let sum = 0;
    for (let h = 0; h < 24; h += 0.01) sum += diurnalEtShare(h) * 0.01;
    expect(sum).toBeCloseTo(1, 2);
    expect(diurnalEtShare(2)).toBe(0);
    expect(diurnalEtShare(12)).toBeGreaterThan(diurnalEtShare(8));
  });

  it('is warmer in the afternoon than before dawn, and a heat wave shifts it', () => {
    const dawn = weatherAt(JULY_1 + 4 * HOUR, DEFAULT_CLIMATE).airC;
    const afternoon = weatherAt(JULY_1 + 15 * HOUR, DEFAULT_CLIMATE).airC;
    expect(afternoon - dawn).toBeGreaterThan(6);
    expect(weatherAt(JULY_1 + 15 * HOUR, DEFAULT_CLIMATE, { tempOffsetC: 5 }).airC).toBeCloseTo(afternoon + 5, 6);
  });
});

describe('soil water balance', () => {
  it('dries the soil over a dry summer week, faster in a heat wave, and slower once stressed', () => {
    const normal = simulate(loamLawn, 30, JULY_1, 7 * 24);
    const hot = simulate(loamLawn, 30, JULY_1, 7 * 24, () => ({ tempOffsetC: 6 }));
    expect(normal.moisture).toBeLessThan(24);
    expect(normal.moisture).toBeGreaterThan(SOILS.loam.wiltingPoint);
    expect(hot.moisture).toBeLessThan(normal.moisture);
    // Day by day the loss shrinks as water stress closes the stomata (Ks < 1).
    const day1 = 30 - simulate(loamLawn, 30, JULY_1, 24).moisture;
    const week = simulate(loamLawn, 30, JULY_1, 6 * 24).moisture;
    const day7 = week - simulate(loamLawn, week, JULY_1 + 6 * 24 * HOUR, 24).moisture;
    expect(day7).toBeLessThan(day1);
  });

  it('loses nothing to evaporation at night', () => {
    const dry = { ...loamLawn };
    expect(simulate(dry, 20, JULY_1, 5).moisture).toBeCloseTo(20, 6); // 00:00–05:00, below field capacity
  });

  it('raises moisture while a valve is open, by the volume over the zone', () => {
    const flow = irrigationMmH(10, 60); // 10 L/min over 60 m² = 10 mm/h
    const start = JULY_1 + 5 * HOUR;
    const dry = simulate(loamLawn, 18, start, 1);
    const watered = simulate(loamLawn, 18, start, 1, () => ({}), () => flow);
    // 10 mm into 300 mm of root zone = +3.3 % VWC, less a little ET.
    expect(watered.moisture - dry.moisture).toBeGreaterThan(3);
    expect(watered.moisture - dry.moisture).toBeLessThan(3.4);
  });

  it('runs a sprinkler faster than the infiltration rate off a clay (why slow soils soak and cycle)', () => {
    const clay: SoilZone = { soil: 'clay', plant: 'lawn', rootDepthMm: 300 };
    const { runoff } = simulate(clay, 25, JULY_1, 1, () => ({}), () => irrigationMmH(20, 60));
    // What the clay does not take in fills the surface's depressions first (2.5 mm), then runs off.
    expect(runoff).toBeCloseTo(20 - SOILS.clay.infiltrationMmH - SURFACE_STORAGE_MM, 6);
  });

  it.each([
    ['loam, 20 mm over 4 h', 'loam', 5, 4, 5, 7],
    ['sand, 20 mm over 4 h (drains below the sensor)', 'sand', 5, 4, 0, 7],
    ['clay, a 40 mm/h burst runs off', 'clay', 40, 1, 1, 2],
  ] as const)('raises moisture plausibly after rain: %s', (_name, soil, mmH, hours, lo, hi) => {
    const zone: SoilZone = { soil, plant: 'lawn', rootDepthMm: 300 };
    const start = SOILS[soil].wiltingPoint + 4;
    const after = simulate(zone, start, JULY_1, hours, () => ({ rainMmH: mmH })).moisture;
    // Never more than the rain depth over the root zone.
    expect(after - start).toBeLessThanOrEqual((mmH * hours / 300) * 100 + 1e-9);
    expect(after - start).toBeGreaterThanOrEqual(lo);
    expect(after - start).toBeLessThanOrEqual(hi);
  });

  it('counts rain beyond the infiltration rate as runoff', () => {
    const clay: SoilZone = { soil: 'clay', plant: 'lawn', rootDepthMm: 300 };
    expect(simulate(clay, 25, JULY_1, 1, () => ({ rainMmH: 40 })).runoff).toBeCloseTo(35 - SURFACE_STORAGE_MM, 0);
  });

  it('drains a saturated sand to field capacity within a day but a clay only slowly', () => {
    const night = (soil: 'sand' | 'clay') => simulate({ soil, plant: 'lawn', rootDepthMm: 300 }, SOILS[soil].saturation, JAN_1, 24).moisture;
    const sandExcess = night('sand') - SOILS.sand.fieldCapacity;
    const clayExcess = night('clay') - SOILS.clay.fieldCapacity;
    expect(sandExcess).toBeLessThan(0.5);
    expect(clayExcess).toBeGreaterThan(5);
  });

  it('never exceeds saturation', () => {
    const m = simulate(loamLawn, 40, JULY_1, 10, () => ({ rainMmH: 12 }), () => 30).moisture;
    expect(m).toBeLessThanOrEqual(SOILS.loam.saturation);
  });
});

describe('tilt', () => {
  const still: TiltState = { pitch: 1, roll: -0.5, driftPitchPerDay: 0.2, driftRollPerDay: 0, pendingShockG: 0 };

  it('settles slowly: a fraction of a degree per day, nothing sudden', () => {
    let s = still;
    for (let i = 0; i < 96; i++) s = advanceTilt(s, 900);
    expect(s.pitch - still.pitch).toBeCloseTo(0.2, 6);
    const week = advanceTilt(still, 7 * 86_400);
    expect(week.pitch - still.pitch).toBeCloseTo(1.4, 6);
  });

  it('jumps on impact and reports the shock once', () => {
    const hit = applyImpact(still, { pitchDeg: 12, rollDeg: -3, shockG: 8 });
    expect(hit.pitch).toBe(13);
    const noise = () => 0;
    const first = readTilt(hit, noise);
    expect(first.reading).toEqual({ pitch: 13, roll: -3.5, shock: 8 });
    expect(readTilt(first.state, noise).reading.shock).toBeUndefined();
  });

  it('reads with small noise around the true angle', () => {
    const rng = createRandom(7);
    const readings = Array.from({ length: 500 }, () => readTilt(still, () => gaussian(rng)).reading.pitch);
    const mean = readings.reduce((a, b) => a + b, 0) / readings.length;
    expect(mean).toBeCloseTo(1, 1);
    expect(Math.max(...readings.map((p) => Math.abs(p - 1)))).toBeLessThan(0.3);
  });
});

describe('valve controller', () => {
  const t0 = JULY_1;

  it('opens on command, integrates volume, and closes itself at the auto-off time', () => {
    const { state, ack } = applyValveCommand(closedValve(t0), { commandId: 'c1', action: 'open', autoOffS: 600, issuedAt: t0 }, t0, 20);
    expect(ack).toEqual({ commandId: 'c1', ok: true, state: 1, ts: t0 });
    const mid = advanceValve(state, t0 + 300_000, 20);
    expect(mid.open).toBe(true);
    expect(mid.volumeL).toBeCloseTo(100, 6);
    const after = advanceValve(mid, t0 + 3_600_000, 20);
    expect(after.open).toBe(false);
    expect(after.volumeL).toBeCloseTo(200, 6); // only the 10 open minutes count
  });

  it('closes on command and acknowledges a repeated command without re-applying it', () => {
    const open = applyValveCommand(closedValve(t0), { commandId: 'c1', action: 'open', autoOffS: 600, issuedAt: t0 }, t0, 20).state;
    const closed = applyValveCommand(open, { commandId: 'c2', action: 'close', issuedAt: t0 }, t0 + 60_000, 20);
    expect(closed.ack.state).toBe(0);
    expect(closed.state.open).toBe(false);
    const retried = applyValveCommand(closed.state, { commandId: 'c1', action: 'open', autoOffS: 600, issuedAt: t0 }, t0 + 120_000, 20);
    expect(retried.ack).toEqual({ commandId: 'c1', ok: true, state: 1, ts: t0 });
    expect(retried.state.open).toBe(false);
  });

  // The device contract (docs/architecture.md, "Stale commands"): a late-delivered old open must not re-open the valve.
  it.each([
    ['issued before the last command obeyed (a queued open after a newer close)', 'c0', t0 - 1_000, t0 + 60_000],
    ['more than 10 minutes old by the valve\'s clock', 'c0', t0 + 60_000 - COMMAND_MAX_AGE_MS - 1, t0 + 60_000],
  ])('refuses an open %s as stale and stays closed', (_case, commandId, issuedAt, at) => {
    const closed = applyValveCommand(closedValve(t0), { commandId: 'c1', action: 'close', issuedAt: t0 }, t0, 20).state;
    const late = applyValveCommand(closed, { commandId, action: 'open', autoOffS: 600, issuedAt }, at, 20);
    expect(late.ack).toEqual({ commandId, ok: false, state: 0, error: STALE_COMMAND_ERROR, ts: at });
    expect(late.state.open).toBe(false);
    expect(late.state.actuations).toBe(0);
  });

  // A close is never the unsafe direction: the age limit guards against an old open only. A
  // valve that went offline while watering gets the server's stop (rain, freeze, an operator's
  // pause, the high threshold) from its session's queue when it reconnects; refusing it for its
  // age would leave it watering until its auto-off, on the open that the close overrode.
  it('obeys a close older than 10 minutes that is newer than the open it obeyed, and closes', () => {
    const open = applyValveCommand(closedValve(t0), { commandId: 'c1', action: 'open', autoOffS: 6 * 3600, issuedAt: t0 }, t0, 20).state;
    const reconnectedAt = t0 + 60_000 + COMMAND_MAX_AGE_MS + 5 * 60_000;
    const queuedClose = applyValveCommand(open, { commandId: 'c2', action: 'close', issuedAt: t0 + 60_000 }, reconnectedAt, 20);
    expect(queuedClose.ack).toEqual({ commandId: 'c2', ok: true, state: 0, ts: reconnectedAt });
    expect(queuedClose.state.open).toBe(false);
    // The order rule still holds for a close: one issued before the open it would undo is refused.
    const older = applyValveCommand(open, { commandId: 'c3', action: 'close', issuedAt: t0 - 1 }, t0 + 1_000, 20);
    expect(older.ack).toMatchObject({ ok: false, error: STALE_COMMAND_ERROR, state: 1 });
  });

  it('obeys a command issued at the same instant as the last one, and one exactly 10 minutes old', () => {
    const open = applyValveCommand(closedValve(t0), { commandId: 'c1', action: 'open', autoOffS: 600, issuedAt: t0 }, t0, 20).state;
    const same = applyValveCommand(open, { commandId: 'c2', action: 'close', issuedAt: t0 }, t0 + COMMAND_MAX_AGE_MS, 20);
    expect(same.ack).toMatchObject({ ok: true, state: 0 });
  });

  it('does not remember a refusal: the same command re-issued with a fresh issuedAt is obeyed', () => {
    const closed = applyValveCommand(closedValve(t0), { commandId: 'c1', action: 'close', issuedAt: t0 }, t0, 20).state;
    const refused = applyValveCommand(closed, { commandId: 'c2', action: 'open', autoOffS: 600, issuedAt: t0 - 1 }, t0 + 1_000, 20);
    expect(refused.ack.ok).toBe(false);
    const fresh = applyValveCommand(refused.state, { commandId: 'c2', action: 'open', autoOffS: 600, issuedAt: t0 + 1_000 }, t0 + 1_000, 20);
    expect(fresh.ack).toMatchObject({ ok: true, state: 1 });
    expect(fresh.state.open).toBe(true);
  });

  it('takes a command from its future (a valve clock behind the server\'s) and orders later ones after it', () => {
    const open = applyValveCommand(closedValve(t0), { commandId: 'c1', action: 'open', autoOffS: 600, issuedAt: t0 + 3_600_000 }, t0, 20);
    expect(open.ack.ok).toBe(true);
    const older = applyValveCommand(open.state, { commandId: 'c2', action: 'close', issuedAt: t0 + 1_000 }, t0 + 2_000, 20);
    expect(older.ack).toMatchObject({ ok: false, error: STALE_COMMAND_ERROR, state: 1 });
  });
});

describe('battery', () => {
  it.each([
    ['soil', 365 * 86_400, 365 * 96, 0, 20, 30],
    ['valve', 86_400, 96, 10, 0.2, 0.3],
  ] as const)('drains a %s node plausibly', (kind, dtS, reports, actuations, lo, hi) => {
    const used = 100 - drainBattery(100, kind, { dtS, reports, actuations });
    expect(used).toBeGreaterThan(lo);
    expect(used).toBeLessThan(hi);
  });
});
