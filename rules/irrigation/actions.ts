import type { AlertKind, Severity } from '../../contracts/alert.ts';
import type { DecideContext, Decision, DecisionAction, DecisionInputs, IrrigationAction, ZoneIrrigationState } from './state.ts';

/** Builders for the decider's output: data only, the engine applies them. */

export function record(ctx: DecideContext, inputs: DecisionInputs, action: DecisionAction, reason: string, extra: Partial<Decision> = {}): IrrigationAction {
  return { type: 'record', decision: { zoneId: ctx.zone.id, at: ctx.now, action, reason, mode: ctx.zone.mode, inputs, ...extra } };
}

type RaisedKind = ZoneIrrigationState['raised'][number];

export function raise(
  state: ZoneIrrigationState, ctx: DecideContext, kind: RaisedKind, severity: Severity, message: string, details: Record<string, unknown>,
): { state: ZoneIrrigationState; action: IrrigationAction } {
  const raised = state.raised.includes(kind) ? state.raised : [...state.raised, kind];
  return {
    state: { ...state, raised },
    action: {
      type: 'signal',
      signal: { action: 'raise', kind, subject: ctx.zone.id, severity, message, communityId: ctx.zone.communityId, districtId: ctx.zone.districtId, details, at: ctx.now },
    },
  };
}

/** Clear an alert this zone raised; nothing when it has none of that kind. */
export function clear(state: ZoneIrrigationState, ctx: DecideContext, kind: AlertKind & RaisedKind, reason: string): { state: ZoneIrrigationState; actions: IrrigationAction[] } {
  if (!state.raised.includes(kind)) return { state, actions: [] };
  return {
    state: { ...state, raised: state.raised.filter((k) => k !== kind) },
    actions: [{ type: 'signal', signal: { action: 'clear', kind, subject: ctx.zone.id, at: ctx.now, reason } }],
  };
}

/** A fresh id, deterministic from a counter, the time and the zone (no randomness in rules); unique per zone even when cut to 64. */
export function nextId(state: ZoneIrrigationState, ctx: DecideContext, prefix: string): { state: ZoneIrrigationState; id: string } {
  const seq = state.seq + 1;
  return { state: { ...state, seq }, id: `${prefix}-${seq}-${ctx.now.toString(36)}-${ctx.zone.id}`.slice(0, 64) };
}
