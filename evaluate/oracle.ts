import type { FleetSpec } from '../firmware-sim/fleet/spec.ts';
import { DEFAULT_CLIMATE, weatherAt } from '../firmware-sim/physics/weather.ts';
import { irrigationMmH, SOILS, stepSoil, type SoilZone } from '../firmware-sim/physics/soil.ts';
import { SURFACE_STORAGE_MM } from '../contracts/zone.ts';
import { isInWindow } from '../rules/irrigation/windows.ts';
import type { IrrigationSettings } from '../rules/irrigation/settings.ts';
import { createZoneMeter, summarize, type Summary, type ZoneResult } from './metrics.ts';
import type { Scenario } from './scenarios.ts';
import { evaluationWorld, STEP_S } from './simulate.ts';
import type { EvalZone } from './zones.ts';

/**
 * A schedule that knows the future: what the world allows, not a controller. Each of its
 * points is a schedule that exists (replayed, below), so its water is an upper bound on what a
 * clairvoyant controller needs for that time in band: if it meets a goal, the goal is within
 * the world's reach. It is not a floor under controllers (it waters only at hour starts, within
 * the soil's intake, never in a rain hour).
 *
 * For each zone, a dynamic programme over the scenario's hours finds the watering that
 * minimises litres + λ × zone-hours outside the band, knowing what no controller knows: the
 * true soil moisture, and every hour of the weather to come (rain and ET0 exactly). Its
 * state is the true moisture on a grid of `gridStep` points; an hour without watering is
 * the simulator's own physics (`stepSoil`, twelve 5-minute steps, the rain's ponding); a
 * watering adds its depth at the start of an hour, at most what the valve, or the soil's
 * intake where that is lower, gives in an hour (so it never ponds or runs off). The hours
 * it may water: the zones' windows (the controller's), or any hour; never while it rains or
 * water stands on the surface. Nothing is worth keeping at the end (the soil may be left
 * dry); the season's replays end wetter than the ET timer's all the same.
 *
 * One λ (litres per zone-hour out of band) for every zone is the Lagrangian of the city's
 * total: each λ gives a point of the frontier of water against zone-hours in band, as the
 * evaluation sums them. Each point is then **replayed through the evaluation's own world**
 * (`createWorld`, same seed: the same initial soil and sky), its watering given by valve
 * commands like any controller's, and measured by the evaluation's meters: the figures are
 * the world's, not the programme's.
 */
export interface OracleOptions {
  zones: EvalZone[];
  fleet: FleetSpec;
  scenario: Scenario;
  seed: number;
  settings: IrrigationSettings;
  /** Litres one zone-hour outside the band is worth; one frontier point each. */
  lambdas: readonly number[];
  /** 'windows': only in the zone's watering windows, as the controller; 'any': any hour. */
  hours: 'windows' | 'any';
  /** Also the point that holds every zone that can be at this share of its hours in band (a λ per zone). */
  floorPct?: number;
  /** Grid of the moisture state, points of VWC (default 0.02). */
  gridStep?: number;
  onZone?: (done: number, of: number) => void;
}

export interface OraclePoint {
  /** NaN for the point that holds each zone at `floorPct`. */
  lambda: number;
  floorPct?: number;
  rows: ZoneResult[];
  summary: Summary;
}

const HOUR = 3_600_000;
const STEPS_PER_HOUR = 3600 / STEP_S;

/** The sky over the scenario, step by step as the world steps (its weather at each step's end). */
interface Sky { et0MmH: Float64Array; rainMmH: Float64Array; hours: number }

function skyOf(s: Scenario): Sky {
  const hours = s.days * 24;
  const n = hours * STEPS_PER_HOUR;
  const et0MmH = new Float64Array(n);
  const rainMmH = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const t = s.startMs + (k + 1) * STEP_S * 1000;
    const w = weatherAt(t, DEFAULT_CLIMATE, s.effect(t));
    et0MmH[k] = w.et0MmH;
    rainMmH[k] = w.rainMmH;
  }
  return { et0MmH, rainMmH, hours };
}

/** One zone's programme: its grid, its no-watering hour map, and which hours may water how much. */
interface ZoneModel {
  zone: EvalZone;
  soil: SoilZone;
  min: number;
  step: number;
  size: number;
  /** Moisture after hour h from grid point i without watering: next[h * size + i]. */
  next: Float32Array;
  /** Most depth (mm) a watering may add at the start of hour h; 0: none. */
  capMm: Float64Array;
}

function modelZone(z: EvalZone, sky: Sky, o: OracleOptions): ZoneModel {
  const s = SOILS[z.config.soil];
  const soil: SoilZone = { soil: z.config.soil, plant: z.config.plant, rootDepthMm: z.rootDepthMm };
  const step = o.gridStep ?? 0.02;
  const min = s.wiltingPoint * 0.5;
  const size = Math.ceil((s.saturation - min) / step) + 1;
  const n = sky.hours * STEPS_PER_HOUR;
  const pond = new Float64Array(n + 1);
  for (let k = 0; k < n; k++) {
    const arriving = (sky.rainMmH[k]! * STEP_S) / 3600 + pond[k]!;
    pond[k + 1] = Math.min(SURFACE_STORAGE_MM, arriving - Math.min(arriving, (s.infiltrationMmH * STEP_S) / 3600));
  }
  const rateMmH = Math.min(irrigationMmH(z.flowLpm, z.areaM2), s.infiltrationMmH);
  const windows = z.config.windows ?? o.settings.windows;
  const capMm = new Float64Array(sky.hours);
  const next = new Float32Array(sky.hours * size);
  const weather = { et0MmH: 0, rainMmH: 0 };
  for (let h = 0; h < sky.hours; h++) {
    const k0 = h * STEPS_PER_HOUR;
    let wet = pond[k0]! > 0;
    for (let k = k0; k < k0 + STEPS_PER_HOUR; k++) wet ||= sky.rainMmH[k]! > 0;
    const hourStart = o.scenario.startMs + h * HOUR;
    // The whole hour must be inside a window: the watering may run to its last minute.
    const open = o.hours === 'any' || (isInWindow(windows, hourStart, o.settings.timezone) && isInWindow(windows, hourStart + HOUR - 60_000, o.settings.timezone));
    capMm[h] = open && !wet ? rateMmH : 0;
    let still = !wet;
    for (let k = k0; k < k0 + STEPS_PER_HOUR; k++) still &&= sky.et0MmH[k] === 0;
    for (let i = 0; i < size; i++) {
      let m = min + i * step;
      // A night without rain: nothing moves a soil at or below field capacity (no ET, no drainage).
      if (still && m <= s.fieldCapacity) {
        next[h * size + i] = m;
        continue;
      }
      for (let k = k0; k < k0 + STEPS_PER_HOUR; k++) {
        weather.et0MmH = sky.et0MmH[k]!;
        weather.rainMmH = sky.rainMmH[k]!;
        m = stepSoil(m, soil, { weather, irrigationMmH: 0, pondMm: pond[k]! }, STEP_S).moisture;
      }
      next[h * size + i] = m;
    }
  }
  return { zone: z, soil, min, step, size, next, capMm };
}

/** Linear interpolation of a grid function at moisture m. */
function at(v: Float64Array, m: number, z: ZoneModel): number {
  const x = Math.max(0, Math.min(z.size - 1, (m - z.min) / z.step));
  const i = Math.min(z.size - 2, Math.floor(x));
  return v[i]! + (x - i) * (v[i + 1]! - v[i]!);
}

/**
 * The programme backwards for one λ: for each hour that may water, the cost to go from the
 * moisture just after its watering (`after[h]`), which is all the replay needs to choose.
 */
function solve(z: ZoneModel, lambda: number): Map<number, Float64Array> {
  const { low, high } = z.zone.band;
  const litresPerPoint = (z.zone.rootDepthMm / 100) * z.zone.areaM2;
  let v: Float64Array = new Float64Array(z.size);
  const after = new Map<number, Float64Array>();
  for (let h = z.capMm.length - 1; h >= 0; h--) {
    const w = new Float64Array(z.size);
    for (let i = 0; i < z.size; i++) {
      const m = z.next[h * z.size + i]!;
      w[i] = (m >= low && m <= high ? 0 : lambda) + at(v, m, z);
    }
    if (z.capMm[h]! > 0) {
      after.set(h, w);
      v = cheapestRaise(w, Math.floor((z.capMm[h]! * 100) / z.zone.rootDepthMm / z.step), litresPerPoint * z.step);
    } else v = w;
  }
  return after;
}

/** v[i] = min over j in [i, i + reach] of (j − i) × litresPerStep + w[j]: a sliding minimum of w[j] + j × litresPerStep (exported for its test). */
export function cheapestRaise(w: Float64Array, reach: number, litresPerStep: number): Float64Array {
  const v = new Float64Array(w.length);
  const deque = new Int32Array(w.length);
  let head = 0;
  let tail = 0;
  const key = (j: number) => w[j]! + j * litresPerStep;
  for (let i = w.length - 1; i >= 0; i--) {
    while (tail > head && key(deque[tail - 1]!) >= key(i)) tail--;
    deque[tail++] = i;
    while (deque[head]! > i + reach) head++;
    v[i] = key(deque[head]!) - i * litresPerStep;
  }
  return v;
}

/** The depth (mm) to water now from true moisture m, by the cost to go after it. */
function choose(z: ZoneModel, after: Float64Array, m: number, capMm: number): number {
  const mmPerPoint = z.zone.rootDepthMm / 100;
  const litresPerPoint = mmPerPoint * z.zone.areaM2;
  let best = at(after, m, z);
  let bestTo = m;
  const top = Math.min(z.min + (z.size - 1) * z.step, m + capMm / mmPerPoint);
  for (let j = Math.ceil((m - z.min) / z.step); z.min + j * z.step <= top; j++) {
    const to = z.min + j * z.step;
    const cost = (to - m) * litresPerPoint + after[j]!;
    if (cost < best - 1e-9) { best = cost; bestTo = to; }
  }
  return (bestTo - m) * mmPerPoint;
}

/** The world of one zone: the evaluation's, its soil starting where the city's world starts it (the same seed), nothing else in it. */
function oneZoneFleet(fleet: FleetSpec, zoneId: string, initialMoisture: number): FleetSpec {
  const c = fleet.communities.find((x) => x.zones.some((z) => z.id === zoneId))!;
  return { ...fleet, communities: [{ ...c, rainGauge: false, facilities: [], zones: c.zones.filter((z) => z.id === zoneId).map((z) => ({ ...z, initialMoisture })) }] };
}

/** Replay one λ's choices for one zone through the evaluation's world and measure it as the evaluation does. */
function replay(z: ZoneModel, plan: Map<number, Float64Array>, o: OracleOptions, fleet: FleetSpec): ZoneResult {
  const world = evaluationWorld(fleet, o.scenario, o.seed);
  const id = z.zone.config.id;
  const valveId = z.zone.config.valveId!;
  const meter = createZoneMeter(z.zone, false);
  // No faster than the soil takes it in: the valve runs part of each 5-minute step.
  const duty = Math.min(1, SOILS[z.zone.config.soil].infiltrationMmH / irrigationMmH(z.zone.flowLpm, z.zone.areaM2));
  let runs = 0;
  for (let h = 0; h < z.capMm.length; h++) {
    const start = o.scenario.startMs + h * HOUR;
    const after = plan.get(h);
    let leftS = after ? (choose(z, after, world.zoneMoisture(id)!, z.capMm[h]!) * z.zone.areaM2 * 60) / z.zone.flowLpm : 0;
    if (leftS >= 1) runs++;
    for (let k = 0; k < STEPS_PER_HOUR && leftS >= 1; k++) {
      const t = start + k * STEP_S * 1000;
      const seconds = Math.min(leftS, STEP_S * duty);
      world.command(valveId, { commandId: `oracle-${h}-${k}`, action: 'open', autoOffS: Math.round(seconds), issuedAt: t }, t);
      leftS -= seconds;
    }
    world.advanceTo(start + HOUR);
    const m = world.zoneMoisture(id)!;
    meter.sample(m, m);
  }
  return meter.finish(world.valveVolumeL(valveId), runs, world.zoneBalance(id));
}

/** The λ a zone is given to hold it at `floorPct` in band: the least of this ladder that does, or the last. */
const FLOOR_LADDER = [10, 15, 20, 25, 30, 40, 60, 80, 120, 160, 320, 640, 1280];

/**
 * The frontier: one replayed point per λ, over the feasible zones (an infeasible band is
 * skipped, as the evaluation's totals skip it). With `floorPct`, one more point: each zone
 * given the least λ of a ladder that holds it at that share in band (or the ladder's last,
 * for a zone no λ gets there: rain holding it above the high, a band too narrow), since one λ
 * for all buys the city's cheapest hours first and lets the thirstiest zones go. Zone by zone,
 * so only one zone's hour map (some 30 MB for a season) is held at a time.
 */
export function oracleFrontier(o: OracleOptions): OraclePoint[] {
  const sky = skyOf(o.scenario);
  const zones = o.zones.filter((z) => !z.infeasible);
  const city = evaluationWorld(o.fleet, o.scenario, o.seed);
  const rows: ZoneResult[][] = o.lambdas.map(() => []);
  const floorRows: ZoneResult[] = [];
  zones.forEach((zone, n) => {
    const model = modelZone(zone, sky, o);
    const fleet = oneZoneFleet(o.fleet, zone.config.id, city.zoneMoisture(zone.config.id)!);
    o.lambdas.forEach((lambda, i) => rows[i]!.push(replay(model, solve(model, lambda), o, fleet)));
    if (o.floorPct !== undefined) floorRows.push(heldAt(o.floorPct, model, o, fleet));
    o.onZone?.(n + 1, zones.length);
  });
  const points: OraclePoint[] = o.lambdas.map((lambda, i) => ({ lambda, rows: rows[i]!, summary: summarize(rows[i]!) }));
  if (o.floorPct !== undefined) points.push({ lambda: Number.NaN, floorPct: o.floorPct, rows: floorRows, summary: summarize(floorRows) });
  return points;
}

function heldAt(floorPct: number, model: ZoneModel, o: OracleOptions, fleet: FleetSpec): ZoneResult {
  let row: ZoneResult | undefined;
  for (const lambda of FLOOR_LADDER) {
    row = replay(model, solve(model, lambda), o, fleet);
    if (row.inBandH >= (floorPct / 100) * row.hours) break;
  }
  return row!;
}

/** Farther apart than this (points of in-band time), two points say too little of the frontier between them. */
const MAX_GAP_POINTS = 5;

/** Water (× the ET timer) where the frontier crosses an in-band share, by linear interpolation between its two points around it. */
export function waterAt(points: Array<{ inBandPct: number; ratio: number }>, inBandPct: number): number | undefined {
  const sorted = [...points].sort((a, b) => a.inBandPct - b.inBandPct);
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1]!, sorted[i]!];
    if (a.inBandPct <= inBandPct && b.inBandPct >= inBandPct) return b.inBandPct - a.inBandPct > MAX_GAP_POINTS ? undefined : b.inBandPct === a.inBandPct ? a.ratio : a.ratio + ((inBandPct - a.inBandPct) * (b.ratio - a.ratio)) / (b.inBandPct - a.inBandPct);
  }
  return undefined;
}
