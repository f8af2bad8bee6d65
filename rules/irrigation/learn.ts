import type { DecideContext, DecisionInputs, Run, ZoneIrrigationState } from './state.ts';

type Learn = NonNullable<ZoneIrrigationState['learn']>;

/** How much a new observation moves what is learned (exponential smoothing). */
const ALPHA = 0.4;
/** Drying is measured over at least this long: the sensors' noise (±0.3 points) is small against it. */
const MIN_SPAN_MS = 6 * 3_600_000;

const smooth = (old: number | undefined, seen: number) => (old === undefined ? seen : old + ALPHA * (seen - old));

/**
 * The zone's drying rate, learned from its own moisture between waterings: from a reference
 * (moisture and time, reset by a run or by rain), every ≥ 6 h without water, the points lost
 * per day. A span with rain in it is not drying and is dropped.
 */
export function learnDrying(state: ZoneIrrigationState, ctx: DecideContext, inputs: DecisionInputs): ZoneIrrigationState {
  const m = inputs.moisture;
  if (m === undefined || state.run) return state;
  const learn: Learn = state.learn ?? {};
  const rained = learn.refAt !== undefined && state.rain.some((r) => r.at > (learn.refAt as number));
  const watered = learn.refAt !== undefined && state.lastRunEndAt !== undefined && state.lastRunEndAt > learn.refAt;
  if (learn.refAt === undefined || learn.refMoisture === undefined || rained || watered) {
    return { ...state, learn: { ...learn, refAt: ctx.now, refMoisture: m } };
  }
  const span = ctx.now - learn.refAt;
  if (span < MIN_SPAN_MS) return state;
  const perDay = ((learn.refMoisture - m) * 86_400_000) / span;
  // A rise without rain or a run is a sensor settling or water from elsewhere: not drying; restart.
  const dryPerDay = perDay >= 0 ? smooth(learn.dryPerDay, perDay) : learn.dryPerDay;
  return { ...state, learn: { ...learn, refAt: ctx.now, refMoisture: m, dryPerDay } };
}

/** The zone's response to water, learned at each run's end: points gained per litre delivered. */
export function learnResponse(state: ZoneIrrigationState, run: Run, moisture: number | undefined, volumeL: number): ZoneIrrigationState {
  if (moisture === undefined || run.startMoisture === undefined || volumeL <= 0 || !run.sensorDriven) return state;
  const gained = moisture - run.startMoisture;
  if (gained <= 0) return state; // no effect is the valve supervision's business, not a response to learn
  const learn: Learn = state.learn ?? {};
  return { ...state, learn: { ...learn, pointsPerL: smooth(learn.pointsPerL, gained / volumeL) } };
}
