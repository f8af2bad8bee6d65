import type { Clock } from '../lib/clock.ts';
import type { AlertKind, AlertSignal, AlertState, AlertTransition, Severity } from '../contracts/alert.ts';
import { toAlert, type AlertRecord, type AlertStore } from './alert-store.ts';
import type { WorkOrderStore } from './work-orders/store.ts';
import { dueAt, isActiveState } from './work-orders/sla.ts';
import { CURRENT_STATE_KINDS, isHigher, isSticky, opensWorkOrder } from './kinds.ts';
import { foldOccurrence } from './occurrences.ts';
import { canReopen, reopenAlert } from './reopen.ts';

export interface AlertTransitionsDeps {
  store: AlertStore;
  orders: WorkOrderStore;
  clock: Clock;
  sla: Record<Severity, number>;
  reopenWithinMs: (kind: AlertKind) => number;
}

/**
 * The writes of the alert lifecycle, each inside the caller's transaction: a detector's raise
 * and clear, a resolve and what it does to the work order, and the transition record each
 * change leaves in `out` (emitted by the service after commit).
 */
export function createAlertTransitions(deps: AlertTransitionsDeps) {
  const { store, orders, clock, sla, reopenWithinMs } = deps;

  const transition = async (out: AlertTransition[], id: number, from: AlertState | undefined, to: AlertTransition['to'], at: number, by?: string, note?: string): Promise<AlertRecord> => {
    const record = (await store.get(id))!;
    const seq = await store.addTransition({ alertId: id, from: from ?? null, to, severity: record.severity, at, by: by ?? null, note: note ?? null });
    out.push({ alert: toAlert(record), from, to, at, ...(by ? { by } : {}), ...(note ? { note } : {}), seq });
    return record;
  };

  const settleWorkOrder = async (alertId: number, at: number, by: string, note: string): Promise<void> => {
    const wo = await orders.forAlert(alertId);
    if (!wo) return;
    if (wo.state === 'open') {
      await orders.update(wo.id, { state: 'cancelled', updated_at: at });
      await orders.addEvent({ workOrderId: wo.id, at, action: 'cancel', from: 'open', to: 'cancelled', by, note: `alert resolved before dispatch: ${note}`, photoUrl: null });
    } else if (wo.state === 'assigned' || wo.state === 'accepted') {
      // Someone is on the way: the visit still gets recorded; only note what happened.
      await orders.addEvent({ workOrderId: wo.id, at, action: 'alert_resolved', from: wo.state, to: wo.state, by, note, photoUrl: null });
    }
  };

  async function resolveWithin(out: AlertTransition[], a: AlertRecord, by: string, note: string | undefined, at: number): Promise<AlertRecord> {
    await store.update(a.id, { state: 'resolved', resolved_at: at, resolved_by: by, resolution_note: note ?? null, last_changed_at: at });
    await settleWorkOrder(a.id, at, by, note ?? 'resolved');
    return transition(out, a.id, a.state, 'resolved', at, by, note);
  }

  /** Say a changing state anew; `restated` tells the listeners (the notifier's copy), not the history. */
  async function restate(out: AlertTransition[], existing: AlertRecord, message: string, details: string, at: number): Promise<void> {
    await store.update(existing.id, { message, details });
    const wo = await orders.forAlert(existing.id);
    if (wo && isActiveState(wo.state) && wo.title !== message) await orders.update(wo.id, { title: message, updated_at: at });
    if (message !== existing.message) out.push({ alert: toAlert((await store.get(existing.id))!), from: existing.state, to: 'restated', at });
  }

  async function raise(s: Extract<AlertSignal, { action: 'raise' }>, out: AlertTransition[]): Promise<AlertRecord> {
    const at = clock.now();
    const existing = await store.active(s.kind, s.subject);
    if (!existing) {
      const last = await store.lastResolved(s.kind, s.subject);
      if (canReopen(last, last && await orders.forAlert(last.id), at, reopenWithinMs(s.kind))) return reopenAlert({ store, orders, sla, transition }, last, s, at, out);
      const id = await store.insert({ kind: s.kind, subject: s.subject, severity: s.severity, message: s.message, communityId: s.communityId ?? null, districtId: s.districtId ?? null, details: s.details, at });
      if (opensWorkOrder(s.kind, s.severity)) {
        await orders.open({ alertId: id, severity: s.severity, communityId: s.communityId ?? null, districtId: s.districtId ?? null, title: s.message, at, dueAt: dueAt(at, s.severity, sla) });
      }
      return transition(out, id, undefined, 'firing', at, 'system', s.message);
    }
    const details = JSON.stringify(foldOccurrence(existing.details, s));
    if (!isHigher(s.severity, existing.severity)) {
      // Same condition again: record it, no transition (no new notification). A changing state
      // (the devices silent behind a gateway) is stated as it is now, in the alert's message and
      // its work order's title as in its details; a fault measured once keeps its first words.
      if (!CURRENT_STATE_KINDS.has(s.kind)) await store.update(existing.id, { details });
      else await restate(out, existing, s.message, details, at);
      return (await store.get(existing.id))!;
    }
    await store.update(existing.id, { severity: s.severity, message: s.message, details, last_changed_at: at });
    const wo = await orders.forAlert(existing.id);
    if (wo && isActiveState(wo.state)) {
      await orders.update(wo.id, { severity: s.severity, due_at: Math.min(wo.dueAt, dueAt(wo.createdAt, s.severity, sla)), updated_at: at });
      await orders.addEvent({ workOrderId: wo.id, at, action: 'escalate', from: wo.state, to: wo.state, by: 'system', note: `severity ${existing.severity} → ${s.severity}`, photoUrl: null });
    } else if (!wo && opensWorkOrder(s.kind, s.severity)) {
      await orders.open({ alertId: existing.id, severity: s.severity, communityId: existing.communityId, districtId: existing.districtId, title: s.message, at, dueAt: dueAt(at, s.severity, sla) });
    }
    return transition(out, existing.id, existing.state, 'severity_raised', at, 'system', `severity ${existing.severity} → ${s.severity}`);
  }

  async function clear(s: Extract<AlertSignal, { action: 'clear' }>, out: AlertTransition[]): Promise<AlertRecord | undefined> {
    const existing = await store.active(s.kind, s.subject);
    if (!existing) return undefined;
    const at = clock.now();
    if (isSticky(existing)) {
      // Readings recovered, but damage stays flagged until its work order is closed.
      await store.update(existing.id, { details: JSON.stringify({ ...existing.details, conditionClearedAt: at, clearReason: s.reason ?? 'condition cleared' }) });
      return store.get(existing.id);
    }
    return resolveWithin(out, existing, 'system', s.reason ?? 'condition cleared', at);
  }

  return { transition, resolveWithin, raise, clear };
}
