import { clear, nextId, raise, record } from './actions.ts';
import { cycleSoakOf } from './water-balance.ts';
import { round, volumeOf, wateredMs } from './inputs.ts';
import { learnResponse } from './learn.ts';
import { irrigationCleared, valveNoAckMessage, valveNoEffectMessage, valveRefusedMessage } from './messages.ts';
import { STALE_COMMAND_ERROR, type CommandAck } from '../../contracts/commands.ts';
import type { DecideContext, DecisionInputs, IrrigationAction, Run, ZoneIrrigationState } from './state.ts';

type Out = { state: ZoneIrrigationState; actions: IrrigationAction[] };

const flowOf = (run: Run, ctx: DecideContext): number => run.flowLpm ?? ctx.zone.flowLpm ?? ctx.settings.nominalFlowLpm;

/** Send (or resend) a valve command; the pending entry is what the ack must match. */
function sendCommand(state: ZoneIrrigationState, ctx: DecideContext, action: 'open' | 'close', autoOffS?: number): Out {
  const run = state.run as Run;
  const valveId = ctx.zone.valveId as string;
  const { state: s, id } = nextId(state, ctx, action === 'open' ? 'o' : 'c');
  const pending = { commandId: id, action, sentAt: ctx.now, attempts: 1, autoOffS };
  return {
    state: { ...s, run: { ...run, pending } },
    actions: [{ type: 'command', valveId, command: { commandId: id, action, autoOffS, issuedAt: ctx.now } }],
  };
}

/** Open the valve for the next cycle: device-side auto-off = what remains (or one cycle) plus a grace. */
function openCycle(state: ZoneIrrigationState, ctx: DecideContext): Out {
  const run = state.run as Run;
  const remainingS = run.plannedS - run.wateredMs / 1000;
  const cycle = cycleSoakOf(ctx.zone, ctx.settings.cycleSoak);
  const thisCycleS = cycle ? Math.min(cycle.runS, remainingS) : remainingS;
  const autoOffS = Math.min(6 * 3600, Math.max(1, Math.ceil(thisCycleS + ctx.settings.autoOffGraceS)));
  const next = { ...state, run: { ...run, phase: 'opening' as const, phaseSince: ctx.now } };
  return sendCommand(next, ctx, 'open', autoOffS);
}

export function startRun(
  state: ZoneIrrigationState, ctx: DecideContext, inputs: DecisionInputs,
  opts: { reason: string; actor?: string; durationS?: number; sensorDriven: boolean; target?: number },
): Out {
  const { settings } = ctx;
  // An operator always gets the refusal recorded; the rules record it once per dry spell.
  const refuse = (reason: string): Out =>
    opts.actor !== undefined ? { state, actions: [record(ctx, inputs, 'skip', reason, { actor: opts.actor })] }
    : state.lastSkip === reason ? { state, actions: [] }
    : { state: { ...state, lastSkip: reason }, actions: [record(ctx, inputs, 'skip', reason)] };
  if (!ctx.zone.valveId) return refuse('no_valve');
  // The run never plans more water than the day's budget has left.
  const budgetS = ((inputs.budgetL - inputs.budgetUsedL) / (ctx.zone.flowLpm ?? settings.nominalFlowLpm)) * 60;
  const wantedS = opts.durationS ?? settings.maxRunS * inputs.seasonalFactor;
  if (wantedS < 1) return refuse('seasonal_off');
  const plannedS = Math.floor(Math.min(wantedS, budgetS));
  if (plannedS < 1) return refuse('budget');
  const { state: s, id } = nextId(state, ctx, 'run');
  const run: Run = {
    id, startedAt: ctx.now, reason: opts.reason, actor: opts.actor, phase: 'opening', phaseSince: ctx.now, wateredMs: 0, plannedS,
    sensorDriven: opts.sensorDriven, startMoisture: inputs.moisture, effectSeen: false, cycle: 1, target: opts.target,
  };
  const opened = openCycle({ ...s, run, dryingSince: undefined, lastSkip: undefined }, ctx);
  return { state: opened.state, actions: [record(ctx, inputs, 'start', opts.reason, { runId: id, actor: opts.actor, durationS: plannedS }), ...opened.actions] };
}

/** Finish the run's bookkeeping; a run cut by a restart does not count for the minimum interval. */
function endRun(state: ZoneIrrigationState, ctx: DecideContext): ZoneIrrigationState {
  const restart = state.run?.stopReason === 'restart';
  return { ...state, run: undefined, lastRunEndAt: restart ? state.lastRunEndAt : ctx.now };
}

/** The stop record (duration, volume) and the water counted against the daily budget. */
function recordStop(state: ZoneIrrigationState, ctx: DecideContext, inputs: DecisionInputs, reason: string, actor?: string): { state: ZoneIrrigationState; action: IrrigationAction } {
  const run = state.run as Run;
  const ms = wateredMs(run, ctx.now);
  const volumeL = volumeOf(ms, flowOf(run, ctx));
  return {
    state: {
      ...learnResponse(state, run, inputs.moisture, volumeL, ctx.now),
      usage: volumeL > 0 ? [...state.usage, { at: ctx.now, volumeL }] : state.usage,
      run: { ...run, wateredMs: ms, stopReason: reason, phaseSince: ctx.now },
    },
    action: record(ctx, inputs, 'stop', reason, { runId: run.id, actor, durationS: round(ms / 1000), volumeL }),
  };
}

/** Stop the run: record why with duration and volume, count the water, close the valve if it may be open. */
export function stopRun(state: ZoneIrrigationState, ctx: DecideContext, inputs: DecisionInputs, reason: string, actor?: string): Out {
  const run = state.run as Run;
  const { state: stopped, action: decision } = recordStop(state, ctx, inputs, reason, actor);
  if (run.phase === 'soaking' && !run.pending) return { state: endRun(stopped, ctx), actions: [decision] };
  if ((run.phase === 'soak_closing' || run.phase === 'closing') && run.pending) {
    return { state: { ...stopped, run: { ...(stopped.run as Run), phase: 'closing' } }, actions: [decision] };
  }
  const closing = sendCommand({ ...stopped, run: { ...(stopped.run as Run), phase: 'closing' } }, ctx, 'close');
  return { state: closing.state, actions: [decision, ...closing.actions] };
}

/**
 * A valve's acknowledgement: only the one the pending command waits for counts (a stale
 * refusal of any other is the valve dropping a late copy, as it should). The pending one
 * refused as stale was judged too old by the valve's clock, or older than a command another
 * issuer sent it: it is re-issued once with a fresh issuedAt, under a new id; refused again,
 * it is a fault. A new id because an ack names only the id: a valve back from an outage may
 * hold several queued copies of the pending command (its ack-timeout retries), each refused
 * as too old, and the second such refusal must not be taken for the re-issue's.
 */
export function onAck(state: ZoneIrrigationState, ctx: DecideContext, inputs: DecisionInputs, ack: CommandAck): Out {
  const run = state.run;
  const pending = run?.pending;
  if (!run || !pending || ack.commandId !== pending.commandId) return { state, actions: [] };
  if (!ack.ok && ack.error === STALE_COMMAND_ERROR && !pending.staleResent) {
    const { state: s, id } = nextId(state, ctx, pending.action === 'open' ? 'o' : 'c');
    const resent = { ...pending, commandId: id, sentAt: ctx.now, staleResent: true };
    return {
      state: { ...s, run: { ...run, pending: resent } },
      actions: [{ type: 'command', valveId: ctx.zone.valveId as string, command: { commandId: id, action: pending.action, autoOffS: pending.autoOffS, issuedAt: ctx.now } }],
    };
  }
  if (!ack.ok) {
    const r = raise(state, ctx, 'valve_no_ack', 'warning', valveRefusedMessage(ctx.zone, ctx.zone.valveId, pending.action, ack.error), { valveId: ctx.zone.valveId, commandId: ack.commandId, action: pending.action, error: ack.error });
    if (run.stopReason) return { state: endRun({ ...r.state, run: { ...run, pending: undefined } }, ctx), actions: [r.action] };
    const stopped = recordStop(r.state, ctx, inputs, 'valve_refused');
    return { state: endRun({ ...stopped.state, run: { ...(stopped.state.run as Run), pending: undefined } }, ctx), actions: [r.action, stopped.action] };
  }
  const cleared = clear(state, ctx, 'valve_no_ack', irrigationCleared.valveAcknowledged);
  const s = cleared.state;
  const settled: Run = { ...run, pending: undefined, phaseSince: ctx.now };
  if (pending.action === 'open') return { state: { ...s, run: { ...settled, phase: 'watering' } }, actions: cleared.actions };
  if (run.phase === 'soak_closing') return { state: { ...s, run: { ...settled, phase: 'soaking' } }, actions: cleared.actions };
  return { state: endRun({ ...s, run: settled }, ctx), actions: cleared.actions };
}

/** Every tick of a zone with a run: ack deadlines, effect check, stop conditions, cycle-and-soak. */
export function superviseRun(state: ZoneIrrigationState, ctx: DecideContext, inputs: DecisionInputs): Out {
  const { settings, now } = ctx;
  const run = state.run as Run;
  const pending = run.pending;
  if (pending) {
    if (now - pending.sentAt < settings.ackTimeoutS * 1000) return { state, actions: [] };
    if (pending.attempts <= settings.ackRetries) {
      // Same command id: a valve that did obey but whose ack was lost just acks again.
      const retried = { ...run, pending: { ...pending, sentAt: now, attempts: pending.attempts + 1 } };
      return {
        state: { ...state, run: retried },
        actions: [{ type: 'command', valveId: ctx.zone.valveId as string, command: { commandId: pending.commandId, action: pending.action, autoOffS: pending.autoOffS, issuedAt: now } }],
      };
    }
    const r = raise(state, ctx, 'valve_no_ack', 'critical', valveNoAckMessage(ctx.zone, ctx.zone.valveId, pending.action, pending.attempts),
      { valveId: ctx.zone.valveId, commandId: pending.commandId, action: pending.action, attempts: pending.attempts, ackTimeoutS: settings.ackTimeoutS });
    const actions: IrrigationAction[] = [r.action];
    let s = r.state;
    if (!run.stopReason) {
      // Whether an unacknowledged open opened is unknown: count only acknowledged watering.
      const stopped = recordStop(s, ctx, inputs, 'valve_no_ack');
      s = stopped.state;
      actions.push(stopped.action);
    }
    if (pending.action === 'open') {
      // Only the acks may be lost: a last, untracked close; the device-side auto-off bounds the water anyway.
      const next = nextId(s, ctx, 'c');
      s = next.state;
      actions.push({ type: 'command', valveId: ctx.zone.valveId as string, command: { commandId: next.id, action: 'close', issuedAt: now } });
    }
    return { state: endRun({ ...s, run: { ...(s.run as Run), pending: undefined } }, ctx), actions };
  }

  if (run.phase === 'closing') return { state: endRun(state, ctx), actions: [] }; // closing with nothing pending: done
  const band = inputs.band;
  const stopReason =
    inputs.pausedUntil !== undefined ? 'paused'
    : inputs.temperatureC !== undefined && inputs.temperatureC <= settings.freezeC ? 'freeze'
    : run.sensorDriven && inputs.rainMm >= settings.rainSkipMm ? 'rain'
    : run.sensorDriven && inputs.counted.length === 0 ? 'no_fresh_sensors'
    : run.target !== undefined && inputs.moisture !== undefined && inputs.moisture >= run.target ? 'reached_target'
    : inputs.moisture !== undefined && inputs.moisture >= band.high ? 'reached_high'
    : inputs.budgetUsedL + volumeOf(wateredMs(run, now), flowOf(run, ctx)) >= inputs.budgetL ? 'budget'
    : wateredMs(run, now) >= run.plannedS * 1000 ? (run.target !== undefined ? 'planned_volume' : 'max_run_time')
    : undefined;

  if (run.phase === 'watering') {
    let s = state;
    const actions: IrrigationAction[] = [];
    if (!run.effectSeen) {
      const rose = inputs.moisture !== undefined && run.startMoisture !== undefined && inputs.moisture >= run.startMoisture + settings.effectMinRise;
      if (rose || (run.flowLpm ?? 0) > 0) {
        const c = clear(s, ctx, 'valve_no_effect', irrigationCleared.wateringTookEffect);
        s = { ...c.state, run: { ...run, effectSeen: true } };
        actions.push(...c.actions);
      } else if (run.startMoisture !== undefined && wateredMs(run, now) >= settings.effectTimeoutS * 1000 && stopReason === undefined) {
        const r = raise(s, ctx, 'valve_no_effect', 'warning', valveNoEffectMessage(ctx.zone, wateredMs(run, now)),
          { valveId: ctx.zone.valveId, startMoisture: run.startMoisture, moisture: inputs.moisture, counted: inputs.counted, effectTimeoutS: settings.effectTimeoutS });
        const stopped = stopRun(r.state, ctx, inputs, 'valve_no_effect');
        return { state: stopped.state, actions: [r.action, ...stopped.actions] };
      }
    }
    if (stopReason) {
      const stopped = stopRun(s, ctx, inputs, stopReason);
      return { state: stopped.state, actions: [...actions, ...stopped.actions] };
    }
    const cycle = cycleSoakOf(ctx.zone, settings.cycleSoak);
    const current = s.run as Run;
    if (cycle && now - current.phaseSince >= cycle.runS * 1000) {
      const soaked: Run = { ...current, wateredMs: wateredMs(current, now), phase: 'soak_closing', phaseSince: now };
      const closing = sendCommand({ ...s, run: soaked }, ctx, 'close');
      return { state: closing.state, actions: [...actions, record(ctx, inputs, 'soak', 'cycle_soak', { runId: run.id, durationS: round(soaked.wateredMs / 1000) }), ...closing.actions] };
    }
    return { state: s, actions };
  }

  if (run.phase === 'soaking') {
    if (stopReason) return stopRun(state, ctx, inputs, stopReason);
    const cycle = cycleSoakOf(ctx.zone, settings.cycleSoak);
    if (now - run.phaseSince >= (cycle?.soakS ?? 0) * 1000) {
      const reopened = openCycle({ ...state, run: { ...run, cycle: run.cycle + 1 } }, ctx);
      return { state: reopened.state, actions: [record(ctx, inputs, 'resume', 'cycle_soak', { runId: run.id }), ...reopened.actions] };
    }
  }
  return { state, actions: [] };
}
