import { z } from 'zod';
import type { SqlQueries } from '../../registry/sql/port.ts';
import { Severity } from '../../contracts/alert.ts';
import { WorkOrderState } from './machine.ts';
import { isOverdue } from './sla.ts';
import { districtCondition } from '../../registry/district-filter.ts';

interface WorkOrderRow {
  id: number; alert_id: number; state: string; severity: string; community_id: string | null; district_id: string | null; title: string;
  assignee: string | null; created_at: number; due_at: number; accepted_at: number | null; resolved_at: number | null; resolution: string | null;
  photo_url: string | null; closed_at: number | null; closed_by: string | null; updated_at: number;
  alert_kind?: string; alert_subject?: string;
}

export const WorkOrder = z.object({
  id: z.number().int(),
  alertId: z.number().int(),
  alertKind: z.string(),
  subject: z.string(),
  state: WorkOrderState,
  severity: Severity,
  communityId: z.string().nullable(),
  districtId: z.string().nullable(),
  title: z.string(),
  assignee: z.string().nullable(),
  createdAt: z.number().int(),
  dueAt: z.number().int(),
  acceptedAt: z.number().int().nullable(),
  resolvedAt: z.number().int().nullable(),
  resolution: z.string().nullable(),
  photoUrl: z.string().nullable(),
  closedAt: z.number().int().nullable(),
  closedBy: z.string().nullable(),
  updatedAt: z.number().int(),
  /** Computed at read time against the clock: past the SLA deadline without (or before) a fix. */
  overdue: z.boolean(),
});
export type WorkOrder = z.infer<typeof WorkOrder>;

export const WorkOrderEvent = z.object({
  id: z.number().int(), workOrderId: z.number().int(), at: z.number().int(), action: z.string(), from: z.string().nullable(), to: z.string(),
  by: z.string().nullable(), note: z.string().nullable(), photoUrl: z.string().nullable(),
});
export type WorkOrderEvent = z.infer<typeof WorkOrderEvent>;

const boolish = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
export const WorkOrderFilter = z.object({
  state: WorkOrderState.optional(),
  community: z.string().optional(),
  assignee: z.string().optional(),
  /** The place or device its alert is about (a facility, a zone, a device). */
  subject: z.string().max(200).optional(),
  overdue: boolish.optional(),
  /** Created at or after (epoch ms). */
  since: z.coerce.number().int().optional(),
  alertId: z.coerce.number().int().optional(),
  limit: z.coerce.number().int().min(1).max(50_000).default(1000),
});
export type WorkOrderFilter = z.input<typeof WorkOrderFilter>;

const SELECT = 'SELECT w.id, w.alert_id, w.state, w.severity, w.community_id, w.district_id, w.title, w.assignee, w.created_at, w.due_at, w.accepted_at, w.resolved_at, w.resolution, w.photo_url, w.closed_at, w.closed_by, w.updated_at, a.kind AS alert_kind, a.subject AS alert_subject FROM work_orders w JOIN alerts a ON a.id = w.alert_id';

/** Written once for both engines (registry/sql/port.ts): `q` is the SQLite or PostgreSQL port, or a transaction of it. */
export function createWorkOrderStore(q: SqlQueries, now: () => number) {
  const toWorkOrder = (r: WorkOrderRow): WorkOrder => {
    const base = {
      id: r.id, alertId: r.alert_id, alertKind: r.alert_kind ?? '', subject: r.alert_subject ?? '', state: r.state as WorkOrder['state'],
      severity: r.severity as WorkOrder['severity'], communityId: r.community_id, districtId: r.district_id, title: r.title, assignee: r.assignee,
      createdAt: r.created_at, dueAt: r.due_at, acceptedAt: r.accepted_at, resolvedAt: r.resolved_at, resolution: r.resolution, photoUrl: r.photo_url,
      closedAt: r.closed_at, closedBy: r.closed_by, updatedAt: r.updated_at,
    };
    return { ...base, overdue: isOverdue(base, now()) };
  };
  const INSERT_EVENT = 'INSERT INTO work_order_events (work_order_id, at, action, from_state, to_state, by, entered_by, note, photo_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';
  const oneOrder = async (where: string, arg: number): Promise<WorkOrder | undefined> => {
    const r = await q.one<WorkOrderRow>(`${SELECT} WHERE ${where}`, [arg]);
    return r && toWorkOrder(r);
  };

  return {
    get: (id: number) => oneOrder('w.id = ?', id),
    forAlert: (alertId: number) => oneOrder('w.alert_id = ?', alertId),
    /** Insert the alert's work order unless it has one (UNIQUE(alert_id) makes "never two" hold for any writer). */
    async open(w: { alertId: number; severity: string; communityId: string | null; districtId: string | null; title: string; at: number; dueAt: number }): Promise<number | undefined> {
      const row = await q.one<{ id: number }>(
        `INSERT INTO work_orders (alert_id, state, severity, community_id, district_id, title, created_at, due_at, updated_at)
         VALUES (?, 'open', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(alert_id) DO NOTHING RETURNING id`,
        [w.alertId, w.severity, w.communityId, w.districtId, w.title, w.at, w.dueAt, w.at],
      );
      if (!row) return undefined;
      const id = Number(row.id);
      await q.run(INSERT_EVENT, [id, w.at, 'open', null, 'open', 'system', null, w.title, null]);
      return id;
    },
    async update(id: number, set: Record<string, string | number | null>): Promise<void> {
      const cols = Object.keys(set);
      await q.run(`UPDATE work_orders SET ${cols.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`, [...cols.map((c) => set[c]!), id]);
    },
    async addEvent(e: { workOrderId: number; at: number; action: string; from: string | null; to: string; by: string | null; enteredBy?: string | null; note: string | null; photoUrl: string | null }): Promise<void> {
      await q.run(INSERT_EVENT, [e.workOrderId, e.at, e.action, e.from, e.to, e.by, e.enteredBy ?? null, e.note, e.photoUrl]);
    },
    /** Who entered an event for the person it names (null: that person entered it). */
    enteredBy: async (eventId: number): Promise<string | null> =>
      (await q.one<{ enteredBy: string | null }>('SELECT entered_by AS "enteredBy" FROM work_order_events WHERE id = ?', [eventId]))?.enteredBy ?? null,
    history: (id: number): Promise<WorkOrderEvent[]> =>
      q.all<WorkOrderEvent>('SELECT id, work_order_id AS "workOrderId", at, action, from_state AS "from", to_state AS "to", by, note, photo_url AS "photoUrl" FROM work_order_events WHERE work_order_id = ? ORDER BY id', [id]),
    /** `districts`: only work orders in these (a confined caller); undefined = the whole city. */
    async list(input: WorkOrderFilter = {}, districts?: readonly string[]): Promise<WorkOrder[]> {
      const f = WorkOrderFilter.parse(input);
      const where: string[] = [];
      const args: Array<string | number> = [];
      const scope = districtCondition('w.district_id', districts);
      if (scope) { where.push(scope.sql); args.push(...scope.args); }
      if (f.state) { where.push('w.state = ?'); args.push(f.state); }
      if (f.community) { where.push('w.community_id = ?'); args.push(f.community); }
      if (f.assignee) { where.push('w.assignee = ?'); args.push(f.assignee); }
      if (f.subject) { where.push('a.subject = ?'); args.push(f.subject); }
      if (f.since !== undefined) { where.push('w.created_at >= ?'); args.push(f.since); }
      if (f.alertId !== undefined) { where.push('w.alert_id = ?'); args.push(f.alertId); }
      const sql = `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY w.id DESC`;
      const rows = (await q.all<WorkOrderRow>(sql, args)).map(toWorkOrder);
      // Overdue depends on the clock, so it is filtered after the read, before the limit.
      return (f.overdue === undefined ? rows : rows.filter((w) => w.overdue === f.overdue)).slice(0, f.limit);
    },
  };
}
export type WorkOrderStore = ReturnType<typeof createWorkOrderStore>;
