import type { Db } from '../../registry/db.ts';
import type { Clock } from '../../lib/clock.ts';
import { CodedError } from '../../lib/errors.ts';
import type { AlertTransition } from '../../contracts/alert.ts';
import type { AlertService } from '../alert-service.ts';
import { nextWorkOrderState, type WorkOrderAction } from './machine.ts';
import { createWorkOrderStore, type WorkOrder, type WorkOrderFilter } from './store.ts';

export type WorkOrderService = ReturnType<typeof createWorkOrderService>;

/** The verify event's note when an admin verified their own fix. */
export const SEPARATION_OVERRIDDEN = 'separation overridden: verified by the resolver';

/**
 * The fault ledger. Work orders are opened by the alert service (one per fault alert);
 * here people move them: assign → accept → resolve (note, optional photo) → verify/close
 * (销号) or reject back to the technician. Accepting acknowledges a still-firing alert (the
 * technician has it); closing resolves the alert with the recorded fix.
 *
 * 整改销号: whoever recorded the latest fix may not verify it. `overrideSeparation` (the API
 * allows it to admins only) lets them, and the verify event's note says so.
 */
export function createWorkOrderService(deps: { db: Db; clock: Clock; alerts: AlertService }) {
  const { db, clock, alerts } = deps;
  const orders = createWorkOrderStore(db, () => clock.now());

  /**
   * `by` is whom the event names; `options.enteredBy` the authenticated caller who entered
   * it, when that is someone else (an operator recording a technician's fix).
   */
  function act(id: number, action: WorkOrderAction, by: string, options: { overrideSeparation?: boolean; enteredBy?: string } = {}): WorkOrder {
    const out: AlertTransition[] = [];
    const result = db.transaction(() => {
      const wo = orders.get(id);
      if (!wo) throw new CodedError('not_found', `no work order ${id}`);
      const next = nextWorkOrderState(wo.state, action);
      if (!next.ok) throw new CodedError('conflict', next.error);
      const overridden = action.action === 'verify' && (isOwnFix(id, by) || (options.enteredBy !== undefined && isOwnFix(id, options.enteredBy)));
      if (overridden && !options.overrideSeparation) {
        throw new CodedError('forbidden', `work order ${id} was resolved by ${options.enteredBy !== undefined && isOwnFix(id, options.enteredBy) ? options.enteredBy : by}; someone else verifies it (整改销号)`);
      }
      const at = clock.now();
      const set: Record<string, string | number | null> = { state: next.value, updated_at: at };
      let note: string | null = null;
      let photoUrl: string | null = null;
      switch (action.action) {
        case 'assign': set.assignee = action.assignee; set.accepted_at = null; note = `assigned to ${action.assignee}`; break;
        case 'accept': set.accepted_at = at; break;
        case 'resolve': set.resolved_at = at; set.resolution = action.note; set.photo_url = action.photoUrl ?? null; note = action.note; photoUrl = action.photoUrl ?? null; break;
        case 'verify': set.closed_at = at; set.closed_by = by; note = overridden ? [SEPARATION_OVERRIDDEN, action.note].filter(Boolean).join(': ') : action.note ?? null; break;
        case 'reject': set.resolved_at = null; note = action.note; break;
        case 'cancel': note = action.note; break;
      }
      orders.update(id, set);
      orders.addEvent({ workOrderId: id, at, action: action.action, from: wo.state, to: next.value, by, enteredBy: options.enteredBy ?? null, note, photoUrl });
      if (action.action === 'accept') alerts.ledger.acknowledgeWithin(out, wo.alertId, by, `work order ${id} accepted`, at);
      if (action.action === 'verify') {
        const fix = [wo.resolution, action.note].filter(Boolean).join(' / ');
        alerts.ledger.resolveWithin(out, wo.alertId, by, `work order ${id} closed: ${fix}`, at);
      }
      return orders.get(id)!;
    }).immediate();
    alerts.ledger.emit(out);
    return result;
  }

  /** Whether `who` recorded the work order's latest fix: named in it, or the one who entered it. */
  function isOwnFix(id: number, who: string): boolean {
    const resolve = orders.history(id).filter((e) => e.action === 'resolve').at(-1);
    return resolve !== undefined && (resolve.by === who || orders.enteredBy(resolve.id) === who);
  }

  return {
    act,
    get: (id: number) => orders.get(id),
    forAlert: (alertId: number) => orders.forAlert(alertId),
    history: (id: number) => orders.history(id),
    list: (filter?: WorkOrderFilter, districts?: readonly string[]) => orders.list(filter, districts),
  };
}
