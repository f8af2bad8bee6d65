import { trackReading } from './zone-state.ts';
import { record } from './actions.ts';
import { considerStart } from './decide-idle.ts';
import { onAck, startRun, stopRun, superviseRun } from './decide-run.ts';
import { cycleSoakOf } from './water-balance.ts';
import { computeInputs, DAY_MS, prune } from './inputs.ts';
import { judgeFeasibility } from './feasibility.ts';
import { checkSensors } from './sensor-check.ts';
import type { DecideContext, DecideResult, IrrigationAction, IrrigationEvent, OperatorOp, ZoneIrrigationState } from './state.ts';

type Out = { state: ZoneIrrigationState; actions: IrrigationAction[] };

/**
 * The irrigation decider: (state, event, clock, config) → (state, actions). Pure: the
 * time is ctx.now, ids come from a counter in the state, and every effect (a valve
 * command, a record, an alert signal) is returned as data for the engine to apply.
 */
export function decideWatering(state: ZoneIrrigationState, event: IrrigationEvent, ctx: DecideContext): DecideResult {
  const applied = applyEvent(prune(state, ctx), event, ctx);
  // Two sensors that drifted apart: the wrong one is left out before the inputs are computed.
  const checked = checkSensors(applied.state, ctx);
  const inputs = computeInputs(checked.state, ctx);
  const evaluated = checked.state.run ? superviseRun(checked.state, ctx, inputs) : considerStart(checked.state, ctx, inputs);
  const actions = [...applied.actions, ...checked.actions, ...evaluated.actions];
  const judged = judgeFeasibility(evaluated.state, ctx, inputs, actions);
  if (judged.actions.length > 0) actions.push(...judged.actions);
  return { state: judged.state, actions, wakeAt: nextWakeAt(judged.state, ctx) };
}

/**
 * A soil reading folded into the zone's sensor tracks, without evaluating the zone: the
 * engine folds every reading and evaluates each zone once per turn (a `tick`), which is
 * what `decideWatering` with the `soil` event does for one reading.
 */
export function withSoilReading(state: ZoneIrrigationState, event: Extract<IrrigationEvent, { type: 'soil' }>): ZoneIrrigationState {
  const previous = state.sensors[event.deviceId];
  const track = trackReading(previous, event);
  return track === previous ? state : { ...state, sensors: { ...state.sensors, [event.deviceId]: track } };
}

function applyEvent(state: ZoneIrrigationState, event: IrrigationEvent, ctx: DecideContext): Out {
  switch (event.type) {
    case 'soil':
      return { state: withSoilReading(state, event), actions: [] };
    case 'rain':
      return event.mm > 0 ? { state: { ...state, rain: [...state.rain, { at: event.at, mm: event.mm }] }, actions: [] } : { state, actions: [] };
    case 'valve': {
      const run = state.run;
      if (!run) return { state, actions: [] };
      // The valve says it is closed while we water: its auto-off fired or someone closed it at the box.
      if (event.state === 0 && run.phase === 'watering' && !run.pending && event.at >= run.phaseSince) {
        return stopRun(state, ctx, computeInputs(state, ctx), 'valve_closed');
      }
      if (event.flowLpm !== undefined && event.flowLpm > 0) return { state: { ...state, run: { ...run, flowLpm: event.flowLpm } }, actions: [] };
      return { state, actions: [] };
    }
    case 'ack':
      return onAck(state, ctx, computeInputs(state, ctx), event.ack);
    case 'forecast':
      return {
        state: {
          ...state,
          forecast: { rainMm: event.rainMm, minAirTempC: event.minAirTempC, et0MmDay: event.et0MmDay, validUntil: event.validUntil, postedBy: event.by },
          et0: event.et0MmDay !== undefined ? { mmDay: event.et0MmDay, at: ctx.now } : state.et0,
        },
        actions: [],
      };
    case 'operator':
      return applyOperator(state, event.operation, ctx);
    case 'restored':
      // After a restart the valve's real state is unknown: close it (idempotent, safe) and let
      // the normal rules start a new run if the zone is still dry; the cut run does not count
      // for the minimum interval, so "resume" is a fresh, fully supervised start.
      if (!state.run) return { state, actions: [] };
      if (state.run.stopReason) return { state: { ...state, run: undefined, lastRunEndAt: state.run.stopReason === 'restart' ? state.lastRunEndAt : ctx.now }, actions: [] };
      {
        const run = state.run;
        // Count watering up to now but never past the plan (the device's auto-off closed it by then);
        // a soaking valve is closed already but gets a close too, as 'opening' adds no watering time.
        const phaseSince = run.phase === 'watering' ? Math.max(run.phaseSince, ctx.now - (run.plannedS * 1000 - run.wateredMs)) : run.phaseSince;
        const phase = run.phase === 'soaking' ? 'opening' : run.phase;
        return stopRun({ ...state, run: { ...run, pending: undefined, phase, phaseSince } }, ctx, computeInputs(state, ctx), 'restart');
      }
    case 'tick':
      return { state, actions: [] };
  }
}

function applyOperator(state: ZoneIrrigationState, op: OperatorOp, ctx: DecideContext): Out {
  const inputs = computeInputs(state, ctx);
  switch (op.op) {
    case 'water_now': {
      if (state.run) return { state, actions: [record(ctx, inputs, 'skip', 'already_running', { actor: op.by })] };
      if (ctx.zone.mode === 'manual') return { state, actions: [record(ctx, inputs, 'skip', 'no_valve', { actor: op.by })] };
      if (inputs.temperatureC !== undefined && inputs.temperatureC <= ctx.settings.freezeC) return { state, actions: [record(ctx, inputs, 'skip', 'freeze', { actor: op.by })] };
      // A pause would stop the run at once: the operator unpauses first (days = 0).
      if (inputs.pausedUntil !== undefined) return { state, actions: [record(ctx, inputs, 'skip', 'paused', { actor: op.by })] };
      // An operator's run ignores window, debounce, interval and rain, but still stops at the high threshold.
      return startRun(state, ctx, inputs, { reason: 'operator_water_now', actor: op.by, durationS: op.durationS, sensorDriven: false });
    }
    case 'skip_next':
      return { state: { ...state, skipNext: { by: op.by, at: ctx.now } }, actions: [record(ctx, inputs, 'operator', 'skip_next', { actor: op.by })] };
    case 'pause': {
      if (op.days <= 0) {
        return { state: { ...state, pausedUntil: undefined, pausedBy: undefined }, actions: [record(ctx, inputs, 'operator', 'unpause', { actor: op.by })] };
      }
      const paused = { ...state, pausedUntil: ctx.now + op.days * DAY_MS, pausedBy: op.by };
      return { state: paused, actions: [record(ctx, computeInputs(paused, ctx), 'operator', 'pause', { actor: op.by })] };
    }
  }
}

/** The earliest moment something can change without a new event, so the engine can wake the zone then. */
export function nextWakeAt(state: ZoneIrrigationState, ctx: DecideContext): number | undefined {
  const { settings, now } = ctx;
  const times: number[] = [];
  const run = state.run;
  if (run?.pending) times.push(run.pending.sentAt + settings.ackTimeoutS * 1000);
  else if (run?.phase === 'watering') {
    const cycle = cycleSoakOf(ctx.zone, settings.cycleSoak);
    times.push(run.phaseSince + (run.plannedS * 1000 - run.wateredMs));
    if (cycle) times.push(run.phaseSince + cycle.runS * 1000);
    if (!run.effectSeen) times.push(run.phaseSince + (settings.effectTimeoutS * 1000 - run.wateredMs));
    // A sensor going stale changes the aggregate mid-run.
    for (const t of Object.values(state.sensors)) times.push(t.lastAt + settings.staleFactor * t.intervalS * 1000 + 1);
  } else if (run?.phase === 'soaking') {
    times.push(run.phaseSince + (cycleSoakOf(ctx.zone, settings.cycleSoak)?.soakS ?? 0) * 1000);
  } else if (!run && state.dryingSince !== undefined) {
    times.push(state.dryingSince + settings.debounceS * 1000);
  }
  if (state.pausedUntil !== undefined) times.push(state.pausedUntil);
  const future = times.filter((t) => t > now);
  return future.length > 0 ? Math.min(...future) : undefined;
}
