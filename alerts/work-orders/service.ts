import type { SqlTx } from '../../registry/sql/port.ts';
import type { Clock } from '../../lib/clock.ts';
import { CodedError } from '../../lib/errors.ts';
import type { AlertTransition } from '../../contracts/alert.ts';
import type { AlertService } from '../alert-service.ts';
import { nextWorkOrderState, type WorkOrderAction, type WorkOrderState } from './machine.ts';
import { createWorkOrderStore, type WorkOrder, type WorkOrderFilter, type WorkOrderStore } from './store.ts';

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
 *
 * Over the alert service's SQL port (the same SQLite connection or PostgreSQL pool); every
 * action holds its alert's lock (AlertService.ledger.lock), the one the alert's own writes take.
 */
export function createWorkOrderService(deps: { clock: Clock; alerts: AlertService }) {
  const { clock, alerts } = deps;
  const { sql } = alerts.ledger;
  const orders = createWorkOrderStore(sql, () => clock.now());

  /**
   * `by` is whom the event names; `options.enteredBy` the authenticated caller who entered
   * it, when that is someone else (an operator recording a technician's fix).
   */
  async function act(id: number, action: WorkOrderAction, by: string, options: { overrideSeparation?: boolean; enteredBy?: string } = {}): Promise<WorkOrder> {
    let out: AlertTransition[] = [];
    const result = await sql.transaction(async (tx) => {
      out = [];
      const txOrders = createWorkOrderStore(tx, () => clock.now());
      const unlocked = await txOrders.get(id);
      if (!unlocked) throw new CodedError('not_found', `no work order ${id}`);
      await alerts.ledger.lock(tx, unlocked.alertId);
      const wo = (await txOrders.get(id))!;
      const next = nextWorkOrderState(wo.state, action);
      if (!next.ok) throw new CodedError('conflict', next.error);
      const ownFixBy = action.action === 'verify' ? await isOwnFix(txOrders, id, by) : false;
      const ownFixEntered = action.action === 'verify' && options.enteredBy !== undefined ? await isOwnFix(txOrders, id, options.enteredBy) : false;
      const overridden = ownFixBy || ownFixEntered;
      if (overridden && !options.overrideSeparation) {
        throw new CodedError('forbidden', `work order ${id} was resolved by ${ownFixEntered ? options.enteredBy : by}; someone else verifies it (整改销号)`);
      }
      const at = clock.now();
      const { set, note, photoUrl } = changesOf(action, next.value, at, by, overridden);
      await txOrders.update(id, set);
      await txOrders.addEvent({ workOrderId: id, at, action: action.action, from: wo.state, to: next.value, by, enteredBy: options.enteredBy ?? null, note, photoUrl });
      await settleAlert(tx, out, wo, action, by, id, at);
      return (await txOrders.get(id))!;
    });
    alerts.ledger.emit(out);
    return result;
  }

  function changesOf(action: WorkOrderAction, state: WorkOrderState, at: number, by: string, overridden: boolean) {
    const set: Record<string, string | number | null> = { state, updated_at: at };
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
    return { set, note, photoUrl };
  }

  /** Accepting acknowledges a still-firing alert; verifying resolves it with the recorded fix. */
  async function settleAlert(tx: SqlTx, out: AlertTransition[], wo: WorkOrder, action: WorkOrderAction, by: string, id: number, at: number): Promise<void> {
    if (action.action === 'accept') await alerts.ledger.acknowledgeWithin(tx, out, wo.alertId, by, `work order ${id} accepted`, at);
    if (action.action === 'verify') {
      const fix = [wo.resolution, action.note].filter(Boolean).join(' / ');
      await alerts.ledger.resolveWithin(tx, out, wo.alertId, by, `work order ${id} closed: ${fix}`, at);
    }
  }

  /** Whether `who` recorded the work order's latest fix: named in it, or the one who entered it. */
  async function isOwnFix(txOrders: WorkOrderStore, id: number, who: string): Promise<boolean> {
    const resolve = (await txOrders.history(id)).filter((e) => e.action === 'resolve').at(-1);
    return resolve !== undefined && (resolve.by === who || (await txOrders.enteredBy(resolve.id)) === who);
  }

  return {
    act,
    get: (id: number) => orders.get(id),
    forAlert: (alertId: number) => orders.forAlert(alertId),
    history: (id: number) => orders.history(id),
    list: (filter?: WorkOrderFilter, districts?: readonly string[]) => orders.list(filter, districts),
  };
}
