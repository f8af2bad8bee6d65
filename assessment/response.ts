import type { Db } from '../registry/db.ts';

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
 * where "due" is every work order fixed, or still open past its deadline at `until`
 * (cancelled ones — the fault cleared before dispatch — do not count).
 */
export function alertResponse(db: Db, from: number, to: number, until: number): Map<string, ResponseMetrics> {
  const out = new Map<string, ResponseMetrics>();
  const get = (c: string): ResponseMetrics => out.get(c) ?? out.set(c, { alerts: 0, mttaMs: null, mttrMs: null, workOrdersDue: 0, workOrdersOnTime: 0, slaCompliance: null }).get(c)!;
  const alerts = db.prepare(`SELECT community_id AS c, count(*) AS n, avg(acknowledged_at - first_fired_at) AS mtta
    FROM alerts WHERE community_id IS NOT NULL AND first_fired_at >= ? AND first_fired_at < ? GROUP BY community_id`).all(from, to) as Array<{ c: string; n: number; mtta: number | null }>;
  for (const a of alerts) Object.assign(get(a.c), { alerts: a.n, mttaMs: a.mtta });
  const orders = db.prepare(`SELECT community_id AS c,
      avg(resolved_at - created_at) AS mttr,
      sum(CASE WHEN resolved_at IS NOT NULL OR (state IN ('open','assigned','accepted') AND due_at < ?) THEN 1 ELSE 0 END) AS due,
      sum(CASE WHEN resolved_at IS NOT NULL AND resolved_at <= due_at THEN 1 ELSE 0 END) AS onTime
    FROM work_orders WHERE community_id IS NOT NULL AND state <> 'cancelled' AND created_at >= ? AND created_at < ? GROUP BY community_id`).all(until, from, to) as Array<{ c: string; mttr: number | null; due: number; onTime: number }>;
  for (const o of orders) {
    Object.assign(get(o.c), { mttrMs: o.mttr, workOrdersDue: o.due, workOrdersOnTime: o.onTime, slaCompliance: o.due > 0 ? o.onTime / o.due : null });
  }
  return out;
}
