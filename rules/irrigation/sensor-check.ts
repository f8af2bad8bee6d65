import { SOIL_WATER } from '../../contracts/zone.ts';
import { clear, raise } from './actions.ts';
import { exclusionOf, type SensorTrack } from './zone-state.ts';
import { wateredMs } from './inputs.ts';
import type { DecideContext, IrrigationAction, ZoneIrrigationState } from './state.ts';

type Out = { state: ZoneIrrigationState; actions: IrrigationAction[] };
type Check = NonNullable<ZoneIrrigationState['sensorCheck']>;

/** Samples averaged into the pair's reference difference (2 h at 15 min). */
const REF_SAMPLES = 8;
/** Samples in a row back within half the tolerance that end a disagreement. */
const AGREE_SAMPLES = 4;
/** After water (a run or rain) the sensors see the wetting front at different times: no samples for this long. */
const SETTLE_MS = 4 * 3_600_000;
/** Hours a soil needs to drain to field capacity after water (sand ~2 h, loam ~8, clay about a day). */
const DRAIN_MS = { sand: 4 * 3_600_000, loam: 8 * 3_600_000, clay: 24 * 3_600_000 } as const;

const r1 = (n: number): number => Math.round(n * 10) / 10;

/**
 * A drifting sensor in a two-sensor zone. The zone's moisture is the median of its sensors,
 * which for two is their mean: one sensor drifting wet by 0.5 points a day would starve the
 * zone of half its drift. So the two are compared: their difference when first seen together
 * (the probes' own calibration) is the reference, and a difference that stands more than
 * `disagreePoints` off it for `disagreeForS` is a sensor_disagreement (one alert for the
 * zone). Samples are taken once per report interval, never during a run or within hours of
 * water (a wetting front reaches one probe first). Which one is wrong:
 * - one that reads what its soil cannot hold (above saturation; above field capacity + the
 *   tolerance when the soil has drained since its last water; below half the wilting point,
 *   under which evaporation alone cannot dry a soil) is left out;
 * - otherwise the higher one is left out: the zone is watered by the drier reading, so it is
 *   never starved, and a run stops at its planned volume, so it is not flooded either.
 * The alert clears, and the sensor counts again, once the two agree within half the tolerance
 * for AGREE_SAMPLES readings (recalibrated or replaced). Pure, like the rest of the decider.
 */
export function checkSensors(state: ZoneIrrigationState, ctx: DecideContext): Out {
  if (state.run) return { state: checkFlatline(state, ctx), actions: [] };
  const pair = healthyPair(state, ctx);
  if (!pair) return { state, actions: [] };
  const [a, b] = pair;
  let check = state.sensorCheck;
  if (!check || check.pair[0] !== a.deviceId || check.pair[1] !== b.deviceId) {
    check = { pair: [a.deviceId, b.deviceId], offset: 0, refSamples: 0, lastSampleAt: 0, agreeing: 0 };
  }
  const { now, settings } = ctx;
  const interval = Math.max(a.intervalS, b.intervalS) * 1000;
  const sampleAt = Math.min(a.lastAt, b.lastAt);
  if (Math.abs(a.lastAt - b.lastAt) > interval || sampleAt < check.lastSampleAt + 0.9 * interval) return withCheck(state, check);
  if (lastWaterAt(state) > now - SETTLE_MS) return withCheck(state, check);
  const diff = a.moisture - b.moisture;
  if (check.refSamples < REF_SAMPLES) {
    const n = check.refSamples + 1;
    return withCheck(state, { ...check, offset: check.offset + (diff - check.offset) / n, refSamples: n, lastSampleAt: sampleAt });
  }
  // Hysteresis: off beyond the tolerance, agreeing again only within half of it (noise of ±0.3 a probe keeps a drift at the edge flapping otherwise).
  const dev = Math.abs(diff - check.offset);
  const off = dev > settings.disagreePoints;
  const agreeing = dev <= settings.disagreePoints / 2 ? check.agreeing + 1 : 0;
  const next: Check = { ...check, lastSampleAt: sampleAt, agreeing, divergedSince: off ? (check.divergedSince ?? sampleAt) : agreeing >= AGREE_SAMPLES ? undefined : check.divergedSince };
  if (next.divergedSince === undefined && check.distrusted !== undefined) {
    const c = clear(state, ctx, 'sensor_disagreement', `${a.deviceId} and ${b.deviceId} agree again`);
    return { state: { ...c.state, sensorCheck: { ...next, distrusted: undefined } }, actions: c.actions };
  }
  if (next.divergedSince === undefined || check.distrusted !== undefined || now - next.divergedSince < settings.disagreeForS * 1000) return withCheck(state, next);
  const verdict = judge(state, ctx, a, b);
  const hours = Math.round((now - next.divergedSince) / 3_600_000);
  const message = `zone ${ctx.zone.name} (${ctx.zone.id}): soil sensors ${a.deviceId} (${a.moisture} %) and ${b.deviceId} (${b.moisture} %) differ by ${r1(Math.abs(diff))} points, `
    + `${r1(Math.abs(diff - check.offset))} more than when first compared, for ${hours} h; ${verdict.why}: ${verdict.distrusted} is left out of the zone's moisture until the two agree again; check or recalibrate it`;
  const r = raise(state, ctx, 'sensor_disagreement', 'warning', message,
    { sensors: { [a.deviceId]: a.moisture, [b.deviceId]: b.moisture }, referenceDiff: r1(check.offset), distrusted: verdict.distrusted, why: verdict.why, divergedSince: next.divergedSince });
  return { state: { ...r.state, sensorCheck: { ...next, distrusted: verdict.distrusted } }, actions: [r.action] };
}

/**
 * A sensor stuck with a live temperature: its moisture stood still through a watering that
 * moved another sensor of the zone. Counting identical whole readings (zone-state.ts) misses
 * it, since the temperature still follows the day; the watering is the test: once a run has
 * watered for effectTimeoutS and the zone's moisture rose, a sensor that has not changed
 * since before the run began is left out as stuck until its moisture moves again.
 */
function checkFlatline(state: ZoneIrrigationState, ctx: DecideContext): ZoneIrrigationState {
  const run = state.run;
  if (!run || !run.effectSeen || run.phase !== 'watering' || wateredMs(run, ctx.now) < ctx.settings.effectTimeoutS * 1000) return state;
  const tracks = Object.values(state.sensors);
  const fresh = tracks.filter((t) => !exclusionOf(t, ctx.now, ctx.settings));
  if (!fresh.some((t) => (t.movedAt ?? 0) > run.startedAt)) return state;
  // Only a sensor that has reported since the effect window: one merely not heard from yet is not flat.
  const flat = fresh.filter((t) => t.movedAt !== undefined && t.movedAt <= run.startedAt && t.lastAt >= run.startedAt + ctx.settings.effectTimeoutS * 1000);
  if (flat.length === 0) return state;
  const sensors = { ...state.sensors };
  for (const t of flat) sensors[t.deviceId] = { ...t, flatSince: ctx.now };
  return { ...state, sensors };
}

const withCheck = (state: ZoneIrrigationState, check: Check): Out => ({ state: check === state.sensorCheck ? state : { ...state, sensorCheck: check }, actions: [] });

/** Exactly two sensors, both fresh and healthy otherwise (stale, stuck and implausible ones are already left out), by id. */
function healthyPair(state: ZoneIrrigationState, ctx: DecideContext): [SensorTrack, SensorTrack] | undefined {
  let first: SensorTrack | undefined;
  let second: SensorTrack | undefined;
  for (const id in state.sensors) {
    const t = state.sensors[id] as SensorTrack;
    if (exclusionOf(t, ctx.now, ctx.settings)) continue;
    if (!first) first = t;
    else if (!second) second = t;
    else return undefined;
  }
  if (!first || !second) return undefined;
  return first.deviceId < second.deviceId ? [first, second] : [second, first];
}

const lastWaterAt = (state: ZoneIrrigationState): number => Math.max(state.lastRunEndAt ?? 0, ...state.rain.map((r) => r.at));

/** Which of two disagreeing sensors to leave out, and why, in words. */
function judge(state: ZoneIrrigationState, ctx: DecideContext, a: SensorTrack, b: SensorTrack): { distrusted: string; why: string } {
  const soil = ctx.zone.soil;
  const w = SOIL_WATER[soil];
  const drained = ctx.now - lastWaterAt(state) >= DRAIN_MS[soil];
  const impossible = (m: number): string | undefined =>
    m > w.saturation ? `above ${soil}'s saturation ${w.saturation} %`
    : drained && m > w.fieldCapacity + ctx.settings.disagreePoints ? `above ${soil}'s field capacity ${w.fieldCapacity} % with no water for ${Math.round(DRAIN_MS[soil] / 3_600_000)} h`
    : m < w.wiltingPoint / 2 ? `below half ${soil}'s wilting point ${w.wiltingPoint} %`
    : undefined;
  const ia = impossible(a.moisture);
  const ib = impossible(b.moisture);
  if (ia && !ib) return { distrusted: a.deviceId, why: `${a.deviceId} reads ${ia}, which the soil cannot hold` };
  if (ib && !ia) return { distrusted: b.deviceId, why: `${b.deviceId} reads ${ib}, which the soil cannot hold` };
  const [low, high] = a.moisture <= b.moisture ? [a, b] : [b, a];
  return { distrusted: high.deviceId, why: `neither reads what ${soil} cannot hold, so the drier ${low.deviceId} is trusted (the zone is not starved)` };
}
