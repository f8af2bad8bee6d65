import { SOIL_WATER } from '../../contracts/zone.ts';
import { etShare, priorDryPerDay } from './water-balance.ts';
import type { DecideContext, DecisionInputs, Run, ZoneIrrigationState } from './state.ts';

type Learn = NonNullable<ZoneIrrigationState['learn']>;

/** How much a new observation moves what is learned (exponential smoothing of the response per litre). */
const ALPHA = 0.4;
/**
 * How much one day's drying moves the learned drying rate. A day's loss is a few tenths of a
 * point to two points against the sensors' ±0.3 of noise on each end, so one day says little:
 * the rate starts at the FAO-56 prior (Kc × ET0 over the root depth) and each day moves it a
 * fifth of the way (about the last week counts).
 */
const DRY_ALPHA = 0.2;
/** Drying is measured over at least this long ... */
const MIN_SPAN_MS = 12 * 3_600_000;
/** ...holding at least this share of a day's ET: a span of one day's ET, morning to evening or longer. */
const MIN_ET_SHARE = 0.8;
/** One day's observation is taken within this many times the prior (a day of drainage or a sensor settling is not the zone's drying). */
const MAX_OVER_PRIOR = 2.5;
/**
 * After a run or rain, this long is drainage, not drying: water above field capacity drains
 * with the soil's rate (the simulator's and FAO-56's sand ~0.4 of the excess an hour, loam
 * 0.12, clay 0.03), so sand is at field capacity in ~8 h, loam in a day, clay in two.
 */
const DRAIN_MS = { sand: 8 * 3_600_000, loam: 24 * 3_600_000, clay: 48 * 3_600_000 } as const;

const smooth = (old: number | undefined, seen: number, alpha = ALPHA) => (old === undefined ? seen : old + alpha * (seen - old));

/**
 * The zone's drying rate, learned from its own moisture between waterings: from a reference
 * (moisture and time, reset by a run, rain or drainage), over ≥ 12 h holding ≥ 80 % of a
 * day's ET, the points lost per day of ET (the loss ÷ the span's share of the day's ET, so a
 * morning and a night are comparable), smoothed from the FAO-56 prior. A span with rain in it
 * is not drying and is dropped. Every observation counts, a small rise (noise) as much as a
 * large loss: keeping only the losses, as this did before, learned noise as drying (a sand
 * ground cover learned 0.99 points per mm of ET0 against the 0.32 its Kc and roots give, and
 * its runs were sized three times the day's need).
 */
export function learnDrying(state: ZoneIrrigationState, ctx: DecideContext, inputs: DecisionInputs): ZoneIrrigationState {
  const m = inputs.moisture;
  if (m === undefined || state.run) return state;
  const learn: Learn = state.learn ?? {};
  const rained = learn.refAt !== undefined && state.rain.some((r) => r.at > (learn.refAt as number));
  const watered = learn.refAt !== undefined && state.lastRunEndAt !== undefined && state.lastRunEndAt > learn.refAt;
  // Above field capacity the soil is still draining (hours on sand): that is not the zone's drying, which is what a prediction needs.
  // A run's or a rain's water above field capacity drains for hours after it (sand ~8, loam a day): not drying either.
  const drainMs = DRAIN_MS[ctx.zone.soil];
  const lastWet = Math.max(state.lastRunEndAt ?? -Infinity, ...state.rain.map((r) => r.at));
  const draining = m > SOIL_WATER[ctx.zone.soil].fieldCapacity || ctx.now - lastWet < drainMs;
  if (learn.refAt === undefined || learn.refMoisture === undefined || rained || watered || draining) {
    return { ...state, learn: { ...learn, refAt: ctx.now, refMoisture: m } };
  }
  const span = ctx.now - learn.refAt;
  if (span < MIN_SPAN_MS) return state;
  // Points per day of ET: the loss over the span divided by the share of a day's ET the span held.
  const share = etShare(learn.refAt, ctx.now, ctx.settings.timezone);
  if (share < MIN_ET_SHARE) return state; // too little ET yet to learn from; keep the reference
  const et0 = inputs.et0MmDay;
  const prior = priorDryPerDay(ctx.zone, et0);
  const perDay = Math.min(MAX_OVER_PRIOR * prior, Math.max(0, (learn.refMoisture - m) / share));
  const dryPerDay = smooth(learn.dryPerDay ?? prior, perDay, DRY_ALPHA);
  // With the day's reference ET0 known, the same loss per mm of ET0: a cool day then predicts a slow day.
  const dryPerMmEt0 = et0 !== undefined && et0 >= 0.5 ? smooth(learn.dryPerMmEt0 ?? prior / et0, perDay / et0, DRY_ALPHA) : learn.dryPerMmEt0;
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
