import type { Severity } from '../../contracts/alert.ts';
import type { WorkOrderState } from './machine.ts';

const HOUR = 3_600_000;

/**
 * Time allowed from opening a work order to the technician's recorded fix, by severity.
 * Critical (a pavilion hit, a gateway down) must be made safe the same shift; warnings
 * within a working day; info within three days. Contracts with the authority may set others.
 */
export const DEFAULT_SLA_MS: Record<Severity, number> = { critical: 4 * HOUR, warning: 24 * HOUR, info: 72 * HOUR };

export const dueAt = (createdAt: number, severity: Severity, sla: Record<Severity, number> = DEFAULT_SLA_MS): number => createdAt + sla[severity];

export const isActiveState = (state: WorkOrderState): boolean => state === 'open' || state === 'assigned' || state === 'accepted';

/**
 * Overdue: still waiting for a fix past the deadline, or fixed after it. The fix time is
 * the technician's resolution (verification is the operator's step and not the crew's delay).
 */
export function isOverdue(wo: { state: WorkOrderState; dueAt: number; resolvedAt: number | null }, now: number): boolean {
  if (isActiveState(wo.state)) return now > wo.dueAt;
  return wo.resolvedAt !== null && wo.resolvedAt > wo.dueAt;
}
