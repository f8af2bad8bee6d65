import { bandProblem } from '../../contracts/zone-feasibility.ts';
import { clear, raise } from './actions.ts';
import { bandInfeasibleMessage, irrigationCleared, shortRunsMessage } from './messages.ts';
import type { DecideContext, DecisionInputs, IrrigationAction, ZoneIrrigationState } from './state.ts';

type Out = { state: ZoneIrrigationState; actions: IrrigationAction[] };
type Feasibility = NonNullable<ZoneIrrigationState['feasibility']>;

/** Stops that mean the run gave all it was allowed to: its time, its planned volume or the day's budget. */
const CAPACITY_STOPS = new Set(['max_run_time', 'planned_volume', 'budget']);

/** Local calendar days, for "N days running". */
const dayFormats = new Map<string, Intl.DateTimeFormat>();
function localDay(t: number, timezone: string): number {
  let f = dayFormats.get(timezone);
  if (!f) dayFormats.set(timezone, (f = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return Math.round(Date.parse(`${f.format(t)}T00:00:00Z`) / 86_400_000);
}

/**
 * Whether the zone can be held in its band at all, judged at run time, after every decision:
 * - its effective band (inventory, or an operator's override) is one its soil cannot hold
 *   (contracts/zone-feasibility.ts, the inventory import's own judgement); or
 * - on `settings.infeasibleAfterDays` days running, every run that gave all it was allowed
 *   (its time, its planned volume or the day's budget) ended with the zone still below its low.
 * Either raises one `zone_infeasible` alert for the zone (raised again only when the cause
 * changes), saying what to change; it clears when the cause goes: a band that fits, or a run
 * that lifts the zone to its low. Pure: the decider's output in, the same plus signals out.
 */
export function judgeFeasibility(state: ZoneIrrigationState, ctx: DecideContext, inputs: DecisionInputs, actions: readonly IrrigationAction[]): Out {
  let s = state;
  for (const a of actions) {
    if (a.type !== 'record' || a.decision.action !== 'stop') continue;
    s = countRun(s, ctx, a.decision.reason, a.decision.inputs.moisture, a.decision.inputs.band.low);
  }
  const band = bandProblem(inputs.band, ctx.zone.soil);
  const f = s.feasibility;
  const shortRuns = f !== undefined && f.shortDays >= ctx.settings.infeasibleAfterDays;
  const cause: Feasibility['cause'] = band ? `band:${band.code}` : shortRuns ? 'runs' : undefined;
  if (cause === f?.cause) return { state: s, actions: [] };
  if (cause === undefined) {
    const c = clear(s, ctx, 'zone_infeasible', irrigationCleared.bandHoldable);
    return { state: { ...c.state, feasibility: { ...(f as Feasibility), cause: undefined } }, actions: c.actions };
  }
  const message = band ? bandInfeasibleMessage(ctx.zone, band) : shortRunsMessage(ctx.zone, (f as Feasibility).shortDays, inputs.band.low, f?.lastMoisture);
  const details = band
    ? { cause: 'band', code: band.code, band: inputs.band, soil: ctx.zone.soil }
    : { cause: 'runs', days: f?.shortDays, lastRunEndMoisture: f?.lastMoisture, band: inputs.band, flowLpm: ctx.zone.flowLpm, windows: inputs.windows };
  const r = raise(s, ctx, 'zone_infeasible', 'warning', message, details);
  return { state: { ...r.state, feasibility: { shortDays: 0, ...r.state.feasibility, cause } }, actions: [r.action] };
}

/** A run's end: below the low after all it was allowed extends the streak of short days; reaching the low ends it. */
function countRun(state: ZoneIrrigationState, ctx: DecideContext, reason: string, moisture: number | undefined, low: number): ZoneIrrigationState {
  if (moisture === undefined) return state;
  const f: Feasibility = state.feasibility ?? { shortDays: 0 };
  if (moisture >= low) return f.shortDays === 0 ? state : { ...state, feasibility: { ...f, shortDays: 0, lastShortDay: undefined } };
  if (!CAPACITY_STOPS.has(reason)) return state; // stopped by rain, a fault, an operator: says nothing of what the valve can give
  const day = localDay(ctx.now, ctx.settings.timezone);
  if (f.lastShortDay === day) return { ...state, feasibility: { ...f, lastMoisture: moisture } };
  const shortDays = f.lastShortDay === day - 1 ? f.shortDays + 1 : 1;
  return { ...state, feasibility: { ...f, shortDays, lastShortDay: day, lastMoisture: moisture } };
}
