import { clear, raise, record } from './actions.ts';
import { startRun } from './decide-run.ts';
import { considerPredictive } from './decide-predictive.ts';
import { skipReason } from './skip.ts';
import { irrigationCleared, wateringNeededMessage } from './messages.ts';
import type { DecideContext, DecisionInputs, IrrigationAction, ZoneIrrigationState } from './state.ts';

type Out = { state: ZoneIrrigationState; actions: IrrigationAction[] };

export { skipReason };

/** Record a skip once per dry spell and reason, not on every tick. */
function skipOnce(state: ZoneIrrigationState, ctx: DecideContext, inputs: DecisionInputs, reason: string, actor?: string): Out {
  if (state.lastSkip === reason) return { state, actions: [] };
  return { state: { ...state, lastSkip: reason }, actions: [record(ctx, inputs, 'skip', reason, { actor })] };
}

/**
 * A zone without a run: start (automatic) or alert the crew (manual) once moisture has
 * stayed below the low threshold for the debounce period and nothing says skip.
 * Hysteresis: a start needs < low; the run stops only at high; the crew's alert clears
 * at mid-band, so a zone hovering at `low` neither flaps nor re-alerts.
 */
export function considerStart(state: ZoneIrrigationState, ctx: DecideContext, inputs: DecisionInputs): Out {
  const { now, settings } = ctx;
  if (settings.controller === 'predictive' && ctx.zone.mode === 'automatic') return considerPredictive(state, ctx, inputs);
  let s = !inputs.inWindow && state.skipHold ? { ...state, skipHold: undefined } : state;
  const m = inputs.moisture;
  if (m === undefined) return { state: s, actions: [] }; // no sensor counts: never water blind
  const { low, high } = inputs.band;
  if (m >= low) {
    s = s.dryingSince !== undefined || s.lastSkip !== undefined ? { ...s, dryingSince: undefined, lastSkip: undefined } : s;
    if (ctx.zone.mode === 'manual' && m >= (low + high) / 2) {
      const c = clear(s, ctx, 'watering_needed', irrigationCleared.moistureRecovered);
      return { state: c.state, actions: c.actions.length > 0 ? [...c.actions, record(ctx, inputs, 'clear', 'moisture_recovered')] : [] };
    }
    return { state: s, actions: [] };
  }
  if (s.dryingSince === undefined) s = { ...s, dryingSince: now };
  if (now - (s.dryingSince as number) < settings.debounceS * 1000) return { state: s, actions: [] };

  const reason = skipReason(s, ctx, inputs);
  if (ctx.zone.mode === 'manual') {
    if (reason) return skipOnce(s, ctx, inputs, reason);
    if (s.raised.includes('watering_needed')) return { state: s, actions: [] };
    // warning, not info: it is work for the crew, and notification routing may drop info.
    const r = raise(s, ctx, 'watering_needed', 'warning', wateringNeededMessage(ctx.zone, m, low),
      { moisture: m, low, high, counted: inputs.counted, dryingSince: s.dryingSince });
    return { state: { ...r.state, lastSkip: undefined }, actions: [r.action, record(ctx, inputs, 'alert', 'below_low')] };
  }
  if (reason) return skipOnce(s, ctx, inputs, reason);
  if (s.skipHold) return { state: s, actions: [] };
  if (s.skipNext) {
    const skipped = skipOnce({ ...s, skipNext: undefined, skipHold: true, lastSkip: undefined }, ctx, inputs, 'operator_skip', s.skipNext.by);
    return skipped;
  }
  return startRun(s, ctx, inputs, { reason: 'below_low', sensorDriven: true });
}
