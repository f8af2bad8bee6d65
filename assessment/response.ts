import type { SqlQueries } from '../registry/sql/port.ts';
import { isOverdue } from '../alerts/work-orders/sla.ts';
import type { WorkOrderState } from '../alerts/work-orders/machine.ts';

export interface ResponseMetrics {
  alerts: number;
  mttaMs: number | null;
  mttrMs: number | null;
  workOrdersDue: number;
  workOrdersOnTime: number;
  slaCompliance: number | null;
}

/**
 * Response figures per community, for alerts and work orders opened in [from, to):
 * MTTA = mean(acknowledged − fired) over acknowledged alerts; MTTR = mean(fix recorded −
 * work order opened) over fixed work orders; SLA compliance = fixed by the deadline / due,
 * where "due" is every work order fixed, or overdue at `until` (isOverdue, the ledger's own
 * rule; cancelled ones — the fault cleared before dispatch — do not count). Read wherever the
 * ledger lives (registry/sql/port.ts): the SQLite default, or PostgreSQL in clustered mode.
 */
export async function alertResponse(sql: SqlQueries, from: number, to: number, until: number): Promise<Map<string, ResponseMetrics>> {
  const out = new Map<string, ResponseMetrics>();
  const get = (c: string): ResponseMetrics => out.get(c) ?? out.set(c, { alerts: 0, mttaMs: null, mttrMs: null, workOrdersDue: 0, workOrdersOnTime: 0, slaCompliance: null }).get(c)!;
  const alerts = await sql.all<{ c: string; n: number; mtta: number | null }>(`SELECT community_id AS c, count(*) AS n, avg(acknowledged_at - first_fired_at) AS mtta
    FROM alerts WHERE community_id IS NOT NULL AND first_fired_at >= ? AND first_fired_at < ? GROUP BY community_id`, [from, to]);
  for (const a of alerts) Object.assign(get(a.c), { alerts: a.n, mttaMs: a.mtta });
  // "Overdue" is the work orders' own rule (alerts/work-orders/sla.ts), judged at `until`:
  // due = fixed, or still unfixed past its deadline; on time = fixed and not overdue.
  const orders = await sql.all<{ c: string; state: WorkOrderState; createdAt: number; dueAt: number; resolvedAt: number | null }>(`SELECT community_id AS c, state, created_at AS "createdAt", due_at AS "dueAt", resolved_at AS "resolvedAt"
    FROM work_orders WHERE community_id IS NOT NULL AND state <> 'cancelled' AND created_at >= ? AND created_at < ?`, [from, to]);
  const repairs = new Map<string, { sumMs: number; fixed: number }>();
  for (const o of orders) {
    const m = get(o.c);
    const overdue = isOverdue(o, until);
    if (o.resolvedAt !== null) {
      const r = repairs.get(o.c) ?? repairs.set(o.c, { sumMs: 0, fixed: 0 }).get(o.c)!;
      r.sumMs += o.resolvedAt - o.createdAt;
      r.fixed += 1;
    }
    if (o.resolvedAt !== null || overdue) m.workOrdersDue += 1;
    if (o.resolvedAt !== null && !overdue) m.workOrdersOnTime += 1;
  }
  for (const [c, r] of repairs) get(c).mttrMs = r.sumMs / r.fixed;
  for (const m of out.values()) m.slaCompliance = m.workOrdersDue > 0 ? m.workOrdersOnTime / m.workOrdersDue : null;
  return out;
}
