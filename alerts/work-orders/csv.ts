import { isoOrEmpty, toCsv } from '../../lib/csv.ts';
import type { WorkOrder } from './store.ts';

const HEADER = ['id', 'alert_id', 'kind', 'subject', 'state', 'severity', 'district', 'community', 'title', 'assignee',
  'created_at', 'due_at', 'accepted_at', 'resolved_at', 'closed_at', 'closed_by', 'overdue', 'resolution', 'photo_url'] as const;

/** The ledger as a spreadsheet: one row per work order, times in ISO 8601 UTC. */
export function workOrdersToCsv(orders: readonly WorkOrder[]): string {
  return toCsv(HEADER, orders.map((w) => [
    w.id, w.alertId, w.alertKind, w.subject, w.state, w.severity, w.districtId, w.communityId, w.title, w.assignee,
    isoOrEmpty(w.createdAt), isoOrEmpty(w.dueAt), isoOrEmpty(w.acceptedAt), isoOrEmpty(w.resolvedAt), isoOrEmpty(w.closedAt), w.closedBy,
    w.overdue, w.resolution, w.photoUrl,
  ]));
}
