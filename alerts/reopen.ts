import type { AlertSignal, AlertState, AlertTransition, Severity } from '../contracts/alert.ts';
import type { AlertRecord, AlertStore } from './alert-store.ts';
import type { WorkOrder, WorkOrderStore } from './work-orders/store.ts';
import { dueAt } from './work-orders/sla.ts';
import { isHigher, opensWorkOrder } from './kinds.ts';

/**
 * How long after an automatic clear the same condition reopens the same alert instead of
 * opening a new one: Grafana's "keep firing for" / Alertmanager's resolve_timeout seen from
 * the other side. The detectors already hold their clears (rules/device-health/hold.ts); this
 * catches what they cannot: a device that falls silent, reports once and falls silent again,
 * or any detector (irrigation's included) whose condition comes and goes. One hour covers
 * the offline cycle of a 15-minute sensor (silent 45 min → alert, one report, silent again).
 */
export const DEFAULT_REOPEN_WITHIN_MS = 3_600_000;

/**
 * Only an alert the system resolved by itself reopens. One a person resolved, or whose work
 * order carries a recorded fix (resolved or closed), stays closed: a recurrence after a repair
 * is a new fault with its own ledger entry, not the old one coming back.
 */
export function canReopen(last: AlertRecord | undefined, wo: WorkOrder | undefined, at: number, withinMs: number): last is AlertRecord {
  if (!last || last.state !== 'resolved' || last.resolvedBy !== 'system' || last.resolvedAt === null) return false;
  if (at - last.resolvedAt > withinMs) return false;
  return !wo || wo.state === 'open' || wo.state === 'assigned' || wo.state === 'accepted' || wo.state === 'cancelled';
}

export interface ReopenDeps {
  store: AlertStore;
  orders: WorkOrderStore;
  sla: Record<Severity, number>;
  transition(out: AlertTransition[], id: number, from: AlertState, to: AlertTransition['to'], at: number, by: string, note: string): AlertRecord;
}

/**
 * Reopen a recently auto-resolved alert: same id, back to the state it had before (an
 * acknowledgement stays: a technician who has it in hand is not paged again by a flap),
 * severity never lowered, the work order the clear cancelled reopened (never a second one).
 */
export function reopenAlert(deps: ReopenDeps, last: AlertRecord, s: Extract<AlertSignal, { action: 'raise' }>, at: number, out: AlertTransition[]): AlertRecord {
  const { store, orders } = deps;
  const to: AlertState = last.acknowledgedAt !== null ? 'acknowledged' : 'firing';
  const severity = isHigher(s.severity, last.severity) ? s.severity : last.severity;
  const { conditionClearedAt: _c, clearReason: _r, ...kept } = last.details ?? {};
  const occurrences = Number(kept.occurrences ?? 1) + 1;
  const reopened = Number(kept.reopened ?? 0) + 1;
  store.update(last.id, {
    state: to, severity, message: s.message, last_changed_at: at, resolved_at: null, resolved_by: null, resolution_note: null,
    details: JSON.stringify({ ...kept, ...s.details, occurrences, reopened }),
  });
  const gapS = Math.round((at - last.resolvedAt!) / 1000);
  const note = `condition back ${gapS} s after it cleared: alert reopened`;
  const wo = orders.forAlert(last.id);
  if (wo?.state === 'cancelled') {
    orders.update(wo.id, { state: 'open', severity, due_at: Math.min(wo.dueAt, dueAt(wo.createdAt, severity, deps.sla)), updated_at: at });
    orders.addEvent({ workOrderId: wo.id, at, action: 'reopen', from: 'cancelled', to: 'open', by: 'system', note, photoUrl: null });
  } else if (wo) {
    orders.addEvent({ workOrderId: wo.id, at, action: 'alert_reopened', from: wo.state, to: wo.state, by: 'system', note, photoUrl: null });
  } else if (opensWorkOrder(s.kind, severity)) {
    orders.open({ alertId: last.id, severity, communityId: last.communityId, districtId: last.districtId, title: s.message, at, dueAt: dueAt(at, severity, deps.sla) });
  }
  return deps.transition(out, last.id, 'resolved', to, at, 'system', note);
}
