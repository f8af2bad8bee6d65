import type { AlertKind, AlertSignal, AlertState, AlertTransition, Severity } from '../contracts/alert.ts';
import type { AlertRecord, AlertStore } from './alert-store.ts';
import type { WorkOrder, WorkOrderStore } from './work-orders/store.ts';
import { dueAt, isActiveState } from './work-orders/sla.ts';
import { isHigher, opensWorkOrder } from './kinds.ts';
import { foldOccurrence } from './occurrences.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

/**
 * How long after an automatic clear the same condition reopens the same alert instead of
 * opening a new one, per kind: Grafana's "keep firing for" / Alertmanager's resolve_timeout
 * seen from the other side. The detectors already hold their clears (rules/device-health/hold.ts);
 * this catches what they cannot: a device that falls silent, reports once and falls silent
 * again, or any detector (irrigation's included) whose condition comes and goes. The window
 * is about what a technician would call "the same fault", so it follows the physics of each:
 *
 * - device_offline, gateway_offline, 6 h: LoRa links in a community fade and return with
 *   weather, dew, parked vans and foliage over hours, and a reading clears offline at once by
 *   design; one hour (the old single value) covered only a 15-minute sensor's own cycle.
 * - battery_low, 7 days: a weak cell reads above its clear level in the afternoon warmth and
 *   below its limit again at night, every day until it is swapped; until then it is one fault
 *   (a recorded swap closes the work order, and then a new low battery is a new alert).
 * - facility_tilt, 3 h: only a warning-level tilt resolves by itself (a critical one is sticky,
 *   kinds.ts); a rope swaying in and out of its warning angle through a storm's gusts is one
 *   alert, a lean that comes back the next day is a new one. A tilt after a repair never
 *   reopens: see canReopen.
 * - watering_needed, 15 min: the crew's task for one dry spell; irrigation already debounces
 *   the raise and clears at mid-band, so only a probe wobbling within one report interval
 *   should fold into the old alert. A zone that dries again is a new task.
 * - everything else, 1 h: the cycle of a 15-minute sensor (silent 45 min → alert, one report,
 *   silent again). Impact and settlement are sticky and only people resolve them, so their
 *   window never applies.
 * 0 turns reopening off for a kind. Overridable in the notify config (`reopenWithinS`).
 */
export const DEFAULT_REOPEN_WITHIN_MS: Readonly<Record<AlertKind, number>> = {
  facility_tilt: 3 * HOUR,
  facility_impact: HOUR,
  facility_settlement: HOUR,
  device_offline: 6 * HOUR,
  gateway_offline: 6 * HOUR,
  battery_low: 7 * 24 * HOUR,
  sensor_stuck: HOUR,
  sensor_out_of_range: HOUR,
  clock_skew: HOUR,
  valve_no_ack: HOUR,
  valve_no_effect: HOUR,
  watering_needed: 15 * MIN,
  // Both clear when their cause goes (a band changed, sensors agreeing again): a quick return is the same cause.
  zone_infeasible: HOUR,
  sensor_disagreement: HOUR,
  // People resolve reports, and a report a person resolved never reopens (canReopen).
  resident_report: HOUR,
};

/** The full per-kind table in ms: the defaults, with the configured seconds (notify config `reopenWithinS`) over them. */
export function reopenWindowsMs(overridesS: Partial<Record<AlertKind, number>> = {}): Record<AlertKind, number> {
  const out = { ...DEFAULT_REOPEN_WITHIN_MS };
  for (const [kind, s] of Object.entries(overridesS) as Array<[AlertKind, number | undefined]>) if (s !== undefined) out[kind] = s * 1000;
  return out;
}

/**
 * Only an alert the system resolved by itself reopens. One a person resolved, or whose work
 * order carries a recorded fix (resolved or closed), stays closed: a recurrence after a repair
 * is a new fault with its own ledger entry, not the old one coming back.
 */
export function canReopen(last: AlertRecord | undefined, wo: WorkOrder | undefined, at: number, withinMs: number): last is AlertRecord {
  if (!last || last.state !== 'resolved' || last.resolvedBy !== 'system' || last.resolvedAt === null) return false;
  if (withinMs <= 0 || at - last.resolvedAt > withinMs) return false;
  return !wo || isActiveState(wo.state) || wo.state === 'cancelled';
}

export interface ReopenDeps {
  store: AlertStore;
  orders: WorkOrderStore;
  sla: Record<Severity, number>;
  transition(out: AlertTransition[], id: number, from: AlertState, to: AlertTransition['to'], at: number, by: string, note: string): Promise<AlertRecord>;
}

/**
 * Reopen a recently auto-resolved alert: same id, back to the state it had before (an
 * acknowledgement stays: a technician who has it in hand is not paged again by a flap),
 * severity never lowered, the work order the clear cancelled reopened (never a second one).
 */
export async function reopenAlert(deps: ReopenDeps, last: AlertRecord, s: Extract<AlertSignal, { action: 'raise' }>, at: number, out: AlertTransition[]): Promise<AlertRecord> {
  const { store, orders } = deps;
  const to: AlertState = last.acknowledgedAt !== null ? 'acknowledged' : 'firing';
  const severity = isHigher(s.severity, last.severity) ? s.severity : last.severity;
  const folded = foldOccurrence(last.details, s);
  const reopened = Number(folded.reopened ?? 0) + 1;
  await store.update(last.id, {
    state: to, severity, message: s.message, last_changed_at: at, resolved_at: null, resolved_by: null, resolution_note: null,
    details: JSON.stringify({ ...folded, reopened }),
  });
  const gapS = Math.round((at - last.resolvedAt!) / 1000);
  const note = `condition back ${gapS} s after it cleared: alert reopened`;
  const wo = await orders.forAlert(last.id);
  if (wo?.state === 'cancelled') {
    // The SLA clock stood still while the work order was cancelled: the condition was gone and
    // nobody was asked to act. Without this, a battery back after two days (inside its 7-day
    // window) would reopen a work order already overdue. A cancelled order is never updated,
    // so its updated_at is the moment it was cancelled.
    const pausedMs = Math.max(0, at - wo.updatedAt);
    await orders.update(wo.id, { state: 'open', severity, due_at: Math.min(wo.dueAt, dueAt(wo.createdAt, severity, deps.sla)) + pausedMs, updated_at: at });
    await orders.addEvent({ workOrderId: wo.id, at, action: 'reopen', from: 'cancelled', to: 'open', by: 'system', note, photoUrl: null });
  } else if (wo) {
    await orders.addEvent({ workOrderId: wo.id, at, action: 'alert_reopened', from: wo.state, to: wo.state, by: 'system', note, photoUrl: null });
  } else if (opensWorkOrder(s.kind, severity)) {
    await orders.open({ alertId: last.id, severity, communityId: last.communityId, districtId: last.districtId, title: s.message, at, dueAt: dueAt(at, severity, deps.sla) });
  }
  return deps.transition(out, last.id, 'resolved', to, at, 'system', note);
}
