import type { IrrigationEvent, ZoneIrrigationState } from '../rules/irrigation/state.ts';
import { initialZoneState } from '../rules/irrigation/state.ts';
import { withSoilReading } from '../rules/irrigation/decide.ts';
import { trackReading } from '../rules/irrigation/zone-state.ts';

type SoilEvent = Extract<IrrigationEvent, { type: 'soil' }>;

export interface SoilFoldDeps {
  states: Map<string, ZoneIrrigationState>;
  /** Run fn once the current turn's readings are in (default: setImmediate; the evaluation: its own queue). */
  defer: (fn: () => void) => void;
  /** Evaluate one zone the turn's readings touched. */
  evaluate: (zoneId: string) => void;
  /** The zone's state changed and must be saved at the next flush. */
  markDirty: (zoneId: string) => void;
}

/**
 * Soil readings are folded into their zone's state as they arrive; each zone they touched
 * is evaluated once at the end of the turn. A burst of readings (a store-and-forward
 * batch, a whole group commit of the ingest) costs one evaluation per zone, not one each.
 *
 * Zone states made by a fold that nothing else has seen yet: later folds before the
 * zone's evaluation write their sensor tracks into them in place. A copy of the zone's
 * state and its sensors for every reading (withSoilReading) cost ~400 ns a reading; this
 * way a zone is copied once per turn. Any other use of the state (an evaluation, the
 * API's status, a save) ends it (`release`), so no state handed out is changed afterwards.
 */
export function createSoilFold(deps: SoilFoldDeps) {
  const { states } = deps;
  const folded = new Set<ZoneIrrigationState>();
  const toEvaluate = new Set<string>();
  let scheduled = false;

  const evaluateTouched = () => {
    scheduled = false;
    const zoneIds = [...toEvaluate];
    toEvaluate.clear();
    for (const zoneId of zoneIds) deps.evaluate(zoneId);
  };

  return {
    fold(zoneId: string, event: SoilEvent): void {
      const before = states.get(zoneId) ?? initialZoneState(zoneId);
      if (folded.has(before)) {
        const previous = before.sensors[event.deviceId];
        const track = trackReading(previous, event);
        if (track === previous) return; // a late reading, older than what the zone holds
        before.sensors[event.deviceId] = track;
      } else {
        const after = withSoilReading(before, event);
        if (after === before) return;
        states.set(zoneId, after);
        folded.add(after);
      }
      deps.markDirty(zoneId);
      toEvaluate.add(zoneId);
      if (!scheduled) {
        scheduled = true;
        deps.defer(evaluateTouched);
      }
    },
    /** The state is seen by someone else from now on: later folds copy it. */
    release(state: ZoneIrrigationState): void {
      folded.delete(state);
    },
    releaseAll(): void {
      folded.clear();
    },
    /** Stop: what was folded is in the saved state; the next start's tick evaluates it. */
    drop(): void {
      toEvaluate.clear();
    },
  };
}
