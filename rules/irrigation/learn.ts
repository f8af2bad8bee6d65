import { SOIL_WATER } from '../../contracts/zone.ts';
import { etShare } from './water-balance.ts';
import type { DecideContext, DecisionInputs, Run, ZoneIrrigationState } from './state.ts';

type Learn = NonNullable<ZoneIrrigationState['learn']>;

/** How much a new observation moves what is learned (exponential smoothing). */
const ALPHA = 0.4;
/** Drying is measured over at least this long: the sensors' noise (±0.3 points) is small against it. */
const MIN_SPAN_MS = 6 * 3_600_000;
/** ...holding at least this share of a day's ET. */
const MIN_ET_SHARE = 0.3;
/** After a run, this long is drainage, not drying. */
const DRAIN_MS = 8 * 3_600_000;

const smooth = (old: number | undefined, seen: number) => (old === undefined ? seen : old + ALPHA * (seen - old));

/**
 * The zone's drying rate, learned from its own moisture between waterings: from a reference
 * (moisture and time, reset by a run, rain or drainage), over ≥ 6 h holding ≥ 30 % of a day's
 * ET, the points lost per day of ET (the loss ÷ the span's share of the day's ET, so a morning
 * and a night are comparable). A span with rain in it is not drying and is dropped.
 */
export function learnDrying(state: ZoneIrrigationState, ctx: DecideContext, inputs: DecisionInputs): ZoneIrrigationState {
  const m = inputs.moisture;
  if (m === undefined || state.run) return state;
  const learn: Learn = state.learn ?? {};
  const rained = learn.refAt !== undefined && state.rain.some((r) => r.at > (learn.refAt as number));
  const watered = learn.refAt !== undefined && state.lastRunEndAt !== undefined && state.lastRunEndAt > learn.refAt;
  // Above field capacity the soil is still draining (hours on sand): that is not the zone's drying, which is what a prediction needs.
  // A run's water above field capacity drains for hours after it (sand ~2 h, loam ~8): not drying either.
  const draining = m > SOIL_WATER[ctx.zone.soil].fieldCapacity || (state.lastRunEndAt !== undefined && ctx.now - state.lastRunEndAt < DRAIN_MS);
  if (learn.refAt === undefined || learn.refMoisture === undefined || rained || watered || draining) {
    return { ...state, learn: { ...learn, refAt: ctx.now, refMoisture: m } };
  }
  const span = ctx.now - learn.refAt;
  if (span < MIN_SPAN_MS) return state;
  // Points per day of ET: the loss over the span divided by the share of a day's ET the span held.
  const share = etShare(learn.refAt, ctx.now, ctx.settings.timezone);
  if (share < MIN_ET_SHARE) return state; // a night: too little ET to learn from; keep the reference
  const perDay = (learn.refMoisture - m) / share;
  // A rise without rain or a run is a sensor settling or water from elsewhere: not drying; restart.
  const dryPerDay = perDay >= 0 ? smooth(learn.dryPerDay, perDay) : learn.dryPerDay;
  // With the day's reference ET0 known, the same loss per mm of ET0: a cool day then predicts a slow day.
  const et0 = inputs.et0MmDay;
  const dryPerMmEt0 = perDay >= 0 && et0 !== undefined && et0 >= 0.5 ? smooth(learn.dryPerMmEt0, perDay / et0) : learn.dryPerMmEt0;
  return { ...state, learn: { ...learn, refAt: ctx.now, refMoisture: m, dryPerDay, ...(dryPerMmEt0 !== undefined ? { dryPerMmEt0 } : {}) } };
}

/**
 * At a run's end, what its response will be learned from: the moisture it started at and the
 * litres delivered. Not the reading at the stop: a run that ends on its planned volume ends
 * on the valve's auto-off, before any sensor has read its water (sensors report every 15 min),
 * so the gain then is the noise of a reading taken before the run, and a response learned
 * from it made the next run too long (sand drained a third more than under the ET timer).
 */
export function learnResponse(state: ZoneIrrigationState, run: Run, _moisture: number | undefined, volumeL: number, now: number): ZoneIrrigationState {
  if (run.startMoisture === undefined || volumeL <= 0 || !run.sensorDriven) return state;
  const learn: Learn = state.learn ?? {};
  return { ...state, learn: { ...learn, responseRun: { startMoisture: run.startMoisture, volumeL, endAt: now } } };
}

/**
 * The response of the last run, from the zone's first reading after it ended: points gained per
 * litre delivered. Rain since the run's end makes the gain not the run's: dropped.
 */
export function settleResponse(state: ZoneIrrigationState, inputs: DecisionInputs): ZoneIrrigationState {
  const pending = state.learn?.responseRun;
  const m = inputs.moisture;
  if (!pending || m === undefined) return state;
  const read = inputs.counted.some((id) => (state.sensors[id]?.lastAt ?? 0) > pending.endAt);
  if (!read) return state;
  const learn: Learn = { ...state.learn, responseRun: undefined };
  const rained = state.rain.some((r) => r.at > pending.endAt);
  const gained = m - pending.startMoisture;
  // No effect is the valve supervision's business, not a response to learn.
  if (!rained && gained > 0) learn.pointsPerL = smooth(learn.pointsPerL, gained / pending.volumeL);
  return { ...state, learn };
}
