import type { Alert, AlertKind, Severity } from '../contracts/alert.ts';

/**
 * Facility damage: a person must write down what was found and done before the alert
 * may be resolved, and the alert is never resolved by readings alone.
 */
export const DAMAGE_KINDS: ReadonlySet<AlertKind> = new Set(['facility_tilt', 'facility_impact', 'facility_settlement']);

export const requiresNote = (kind: AlertKind): boolean => DAMAGE_KINDS.has(kind);

/**
 * Sticky alerts stay active when the condition clears, until their work order is closed
 * (docs/architecture.md: a damaged facility stays flagged until a technician closes its
 * ledger entry, even if readings recover). Impact and settlement are damage by definition; a tilt is
 * damage once it has reached critical. A warning-level tilt that comes back (a rope swaying
 * in a storm) resolves by itself like any other condition.
 */
export const isSticky = (alert: Pick<Alert, 'kind' | 'severity'>): boolean =>
  alert.kind === 'facility_impact' || alert.kind === 'facility_settlement' || (alert.kind === 'facility_tilt' && alert.severity === 'critical');

/**
 * Kinds that never open a work order, whatever their severity: what they ask for is not a
 * technician's visit. `watering_needed` is the crew's routine task, not a fault;
 * `zone_infeasible` is fixed by a settings change at a desk (the zone's band, soil, roots,
 * windows or valve flow in the inventory, rules/irrigation/feasibility.ts says which), so
 * it is an operator's alert to acknowledge and resolve.
 */
export const NO_WORK_ORDER_KINDS: ReadonlySet<AlertKind> = new Set(['watering_needed', 'zone_infeasible']);

/**
 * Which alerts are faults that open a work order: everything a technician must go and fix,
 * i.e. every kind but NO_WORK_ORDER_KINDS; `info` alerts (clock skew) are for the record only.
 */
export const opensWorkOrder = (kind: AlertKind, severity: Severity): boolean => !NO_WORK_ORDER_KINDS.has(kind) && severity !== 'info';

/**
 * Kinds whose details are a state that changes while the alert stands, not a fault measured
 * once: the devices silent behind an offline gateway grow (or shrink) sweep by sweep. A repeat
 * puts its values at the top level (what the alert is about now) and keeps the first
 * occurrence's under `first` (what was silent when it was raised): alerts/occurrences.ts.
 */
export const CURRENT_STATE_KINDS: ReadonlySet<AlertKind> = new Set(['gateway_offline']);

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
export const isHigher = (a: Severity, b: Severity): boolean => RANK[a] > RANK[b];
