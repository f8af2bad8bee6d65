import { UNPLACED } from '../contracts/ownership.ts';
import { z } from 'zod';
import type { SqlQueries, SqlValue } from '../registry/sql/port.ts';
import { Alert, AlertKind, AlertState, Severity } from '../contracts/alert.ts';
import { districtCondition } from '../registry/district-filter.ts';

interface AlertRow {
  id: number; kind: string; subject: string; severity: string; state: string; message: string;
  community_id: string | null; district_id: string | null; details: string | null;
  first_fired_at: number; last_changed_at: number; acknowledged_at: number | null; acknowledged_by: string | null;
  resolved_at: number | null; resolved_by: string | null; resolution_note: string | null;
}

/** An alert with the ledger fields the API and the scorecard read (acknowledged/resolved times). */
export const AlertRecord = Alert.extend({
  acknowledgedAt: z.number().int().nullable(),
  resolvedAt: z.number().int().nullable(),
  resolvedBy: z.string().nullable(),
  resolutionNote: z.string().nullable(),
});
export type AlertRecord = z.infer<typeof AlertRecord>;

export const TransitionRecord = z.object({
  id: z.number().int(), alertId: z.number().int(), from: AlertState.nullable(), to: z.string(), severity: Severity,
  at: z.number().int(), by: z.string().nullable(), note: z.string().nullable(),
});
export type TransitionRecord = z.infer<typeof TransitionRecord>;

export const CommentRecord = z.object({ id: z.number().int(), alertId: z.number().int(), at: z.number().int(), by: z.string(), text: z.string() });
export type CommentRecord = z.infer<typeof CommentRecord>;

export const toRecord = (r: AlertRow): AlertRecord => ({
  id: r.id, kind: r.kind as AlertRecord['kind'], subject: r.subject, severity: r.severity as AlertRecord['severity'], state: r.state as AlertRecord['state'],
  message: r.message, communityId: r.community_id, districtId: r.district_id, firstFiredAt: r.first_fired_at, lastChangedAt: r.last_changed_at,
  acknowledgedBy: r.acknowledged_by, details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
  acknowledgedAt: r.acknowledged_at, resolvedAt: r.resolved_at, resolvedBy: r.resolved_by, resolutionNote: r.resolution_note,
});

/** The contract's Alert (what listeners and notifications receive) from a record. */
export const toAlert = (r: AlertRecord): Alert => ({
  id: r.id, kind: r.kind, subject: r.subject, severity: r.severity, state: r.state, message: r.message, communityId: r.communityId,
  districtId: r.districtId, firstFiredAt: r.firstFiredAt, lastChangedAt: r.lastChangedAt, acknowledgedBy: r.acknowledgedBy, details: r.details,
});

export const AlertFilter = z.object({
  state: AlertState.optional(),
  /** true: firing or acknowledged. */
  active: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).optional(),
  kind: AlertKind.optional(),
  subject: z.string().optional(),
  community: z.string().optional(),
  since: z.coerce.number().int().optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});
export type AlertFilter = z.input<typeof AlertFilter>;

const ALERT_COLUMNS = `id, kind, subject, severity, state, message, community_id, district_id, details, first_fired_at, last_changed_at,
  acknowledged_at, acknowledged_by, resolved_at, resolved_by, resolution_note`;

/**
 * SQL over the alert tables; no policy here (that is the service's). Written once for both
 * engines (registry/sql/port.ts): `q` is the SQLite or PostgreSQL port, or a transaction of it.
 */
export function createAlertStore(q: SqlQueries) {
  const oneAlert = async (sql: string, params: SqlValue[]): Promise<AlertRecord | undefined> => {
    const r = await q.one<AlertRow>(sql, params);
    return r && toRecord(r);
  };
  return {
    get: (id: number) => oneAlert(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = ?`, [id]),
    /** An alert's state alone (the notifier's check before a reminder); undefined: no such alert. */
    stateOf: async (id: number): Promise<AlertState | undefined> => (await q.one<{ state: AlertState }>('SELECT state FROM alerts WHERE id = ?', [id]))?.state,
    active: (kind: string, subject: string) => oneAlert(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE kind = ? AND subject = ? AND state <> 'resolved'`, [kind, subject]),
    /** The latest resolved alert of a key (whether it may reopen is the service's call). */
    lastResolved: (kind: string, subject: string) =>
      oneAlert(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE kind = ? AND subject = ? AND state = 'resolved' ORDER BY id DESC LIMIT 1`, [kind, subject]),
    async insert(a: { kind: string; subject: string; severity: string; message: string; communityId: string | null; districtId: string | null; details: unknown; at: number }): Promise<number> {
      const row = await q.one<{ id: number }>(
        `INSERT INTO alerts (kind, subject, severity, state, message, community_id, district_id, details, first_fired_at, last_changed_at)
         VALUES (?, ?, ?, 'firing', ?, ?, ?, ?, ?, ?) RETURNING id`,
        [a.kind, a.subject, a.severity, a.message, a.communityId, a.districtId, a.details === undefined ? null : JSON.stringify(a.details), a.at, a.at],
      );
      return Number(row!.id);
    },
    async update(id: number, set: Record<string, string | number | null>): Promise<void> {
      const cols = Object.keys(set);
      await q.run(`UPDATE alerts SET ${cols.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`, [...cols.map((c) => set[c]!), id]);
    },
    /**
     * Returns the row's id: the transition's seq (AlertTransition.seq). Every caller holds the
     * alert's lock until commit, so of one alert's transitions the later has the higher id
     * (SQLite AUTOINCREMENT never reuses one; a PostgreSQL identity is drawn at the insert).
     */
    async addTransition(t: { alertId: number; from: string | null; to: string; severity: string; at: number; by: string | null; note: string | null }): Promise<number> {
      const row = await q.one<{ id: number }>(
        'INSERT INTO alert_transitions (alert_id, from_state, to_state, severity, at, by, note) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id',
        [t.alertId, t.from, t.to, t.severity, t.at, t.by, t.note],
      );
      return Number(row!.id);
    },
    transitions: (alertId: number): Promise<TransitionRecord[]> =>
      q.all<TransitionRecord>('SELECT id, alert_id AS "alertId", from_state AS "from", to_state AS "to", severity, at, by, note FROM alert_transitions WHERE alert_id = ? ORDER BY id', [alertId]),
    async addComment(alertId: number, at: number, by: string, text: string): Promise<CommentRecord> {
      const row = await q.one<{ id: number }>('INSERT INTO alert_comments (alert_id, at, by, text) VALUES (?, ?, ?, ?) RETURNING id', [alertId, at, by, text]);
      return { id: Number(row!.id), alertId, at, by, text };
    },
    comments: (alertId: number): Promise<CommentRecord[]> =>
      q.all<CommentRecord>('SELECT id, alert_id AS "alertId", at, by, text FROM alert_comments WHERE alert_id = ? ORDER BY id', [alertId]),
    /** The district of each of these alerts that exists (null: raised outside every district); at most 1,000 ids a call. */
    async districtsOf(ids: readonly number[]): Promise<Map<number, string | null>> {
      if (ids.length === 0) return new Map();
      const rows = await q.all<{ id: number; district: string | null }>(`SELECT id, district_id AS "district" FROM alerts WHERE id IN (${ids.map(() => '?').join(', ')})`, [...ids]);
      return new Map(rows.map((r) => [Number(r.id), r.district]));
    },
    /**
     * The active alerts of these communities (`UNPLACED`: the alerts of no community): the
     * detectors of a community this node gains are seeded from them (clustered mode).
     */
    async activeIn(communities: readonly string[]): Promise<AlertRecord[]> {
      const named = communities.filter((c) => c !== UNPLACED);
      const where = [...(named.length ? [`community_id IN (${named.map(() => '?').join(', ')})`] : []), ...(named.length < communities.length ? ['community_id IS NULL'] : [])];
      if (where.length === 0) return [];
      return (await q.all<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE state <> 'resolved' AND (${where.join(' OR ')}) ORDER BY id`, named)).map(toRecord);
    },
    /** Every active alert, unbounded (start-up seeding of the detectors). */
    allActive: async (): Promise<AlertRecord[]> => (await q.all<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE state <> 'resolved' ORDER BY id`)).map(toRecord),
    /** `districts`: only alerts in these (a confined caller); undefined = the whole city. */
    async list(input: AlertFilter = {}, districts?: readonly string[]): Promise<AlertRecord[]> {
      const f = AlertFilter.parse(input);
      const where: string[] = [];
      const args: Array<string | number> = [];
      const scope = districtCondition('district_id', districts);
      if (scope) { where.push(scope.sql); args.push(...scope.args); }
      if (f.state) { where.push('state = ?'); args.push(f.state); }
      if (f.active === true) where.push("state <> 'resolved'");
      if (f.active === false) where.push("state = 'resolved'");
      if (f.kind) { where.push('kind = ?'); args.push(f.kind); }
      if (f.subject) { where.push('subject = ?'); args.push(f.subject); }
      if (f.community) { where.push('community_id = ?'); args.push(f.community); }
      if (f.since !== undefined) { where.push('last_changed_at >= ?'); args.push(f.since); }
      const sql = `SELECT ${ALERT_COLUMNS} FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
      return (await q.all<AlertRow>(sql, [...args, f.limit])).map(toRecord);
    },
  };
}
export type AlertStore = ReturnType<typeof createAlertStore>;
