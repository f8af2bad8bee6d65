import { SOIL_WATER } from '../../contracts/zone.ts';
import { clear, raise } from './actions.ts';
import { exclusionOf, type SensorTrack } from './zone-state.ts';
import { wateredMs } from './inputs.ts';
import { disagreementMessage, irrigationCleared, disagreementWhy, type DisagreementCause } from './messages.ts';
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
    const c = clear(state, ctx, 'sensor_disagreement', irrigationCleared.sensorsAgree(a.deviceId, b.deviceId));
    return { state: { ...c.state, sensorCheck: { ...next, distrusted: undefined } }, actions: c.actions };
  }
  if (next.divergedSince === undefined || check.distrusted !== undefined || now - next.divergedSince < settings.disagreeForS * 1000) return withCheck(state, next);
  const verdict = judge(state, ctx, a, b);
  const why = disagreementWhy(verdict.cause, ctx.zone.soil);
  const message = disagreementMessage(ctx.zone, {
    a: { id: a.deviceId, moisture: a.moisture }, b: { id: b.deviceId, moisture: b.moisture }, diff: Math.abs(diff), beyondReference: Math.abs(diff - check.offset),
    forMs: now - next.divergedSince, why, distrusted: verdict.distrusted,
  });
  const r = raise(state, ctx, 'sensor_disagreement', 'warning', message,
    { sensors: { [a.deviceId]: a.moisture, [b.deviceId]: b.moisture }, referenceDiff: r1(check.offset), distrusted: verdict.distrusted, why: why.en, divergedSince: next.divergedSince });
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

/** Which of two disagreeing sensors to leave out, and why (messages.ts says it in words). */
function judge(state: ZoneIrrigationState, ctx: DecideContext, a: SensorTrack, b: SensorTrack): { distrusted: string; cause: DisagreementCause } {
  const soil = ctx.zone.soil;
  const w = SOIL_WATER[soil];
  const drained = ctx.now - lastWaterAt(state) >= DRAIN_MS[soil];
  const impossible = (t: SensorTrack): DisagreementCause | undefined =>
    t.moisture > w.saturation ? { code: 'above_saturation', sensor: t.deviceId }
    : drained && t.moisture > w.fieldCapacity + ctx.settings.disagreePoints ? { code: 'above_field_capacity', sensor: t.deviceId, drainH: Math.round(DRAIN_MS[soil] / 3_600_000) }
    : t.moisture < w.wiltingPoint / 2 ? { code: 'below_wilting', sensor: t.deviceId }
    : undefined;
  const ia = impossible(a);
  const ib = impossible(b);
  if (ia && !ib) return { distrusted: a.deviceId, cause: ia };
  if (ib && !ia) return { distrusted: b.deviceId, cause: ib };
  const [low, high] = a.moisture <= b.moisture ? [a, b] : [b, a];
  return { distrusted: high.deviceId, cause: { code: 'drier_trusted', trusted: low.deviceId } };
}
