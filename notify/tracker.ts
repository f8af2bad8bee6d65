import type { SqlQueries } from '../registry/sql/port.ts';
import { Alert, type AlertState } from '../contracts/alert.ts';
import type { NotifyReason } from './policy.ts';

export type Audience = 'team' | 'supervisor';

export interface Tracked {
  alert: Alert;
  state: AlertState;
  teamIds: string[];
  announcedAt: number | null;
  nextReminderAt: number | null;
  escalateAt: number | null;
  escalatedAt: number | null;
  reminders: number;
  /**
   * The seq (AlertTransition.seq) of the last transition of the alert recorded here; null
   * before the first with one. One at or below it is older than what is recorded (two nodes
   * heard in the other order) and is passed over.
   */
  lastSeq: number | null;
}

export interface PendingItem { id: number; alertId: number; teamId: string; audience: Audience; reason: NotifyReason; createdAt: number }

interface TrackedRow {
  alert: string; state: AlertState; team_ids: string; announced_at: number | null; next_reminder_at: number | null; escalate_at: number | null;
  escalated_at: number | null; reminders: number; last_seq: number | null;
}

const fromRow = (r: TrackedRow): Tracked => ({
  alert: Alert.parse(JSON.parse(r.alert)), state: r.state, teamIds: JSON.parse(r.team_ids) as string[], announcedAt: r.announced_at,
  nextReminderAt: r.next_reminder_at, escalateAt: r.escalate_at, escalatedAt: r.escalated_at, reminders: r.reminders,
  lastSeq: r.last_seq === null ? null : Number(r.last_seq),
});

const TRACKED_COLUMNS = 'alert, state, team_ids, announced_at, next_reminder_at, escalate_at, escalated_at, reminders, last_seq';
const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/**
 * An item is releasable once its hold has passed, or once the silence holding it is deleted or
 * over: a flush on one node can hold an item by a silence another node deletes meanwhile (it read
 * the silences first), and the item then waits for the next tick, not for the silence's old end.
 * Two `?`: now, now.
 */
const RELEASABLE = `(hold_until <= ? OR (silence_id IS NOT NULL AND NOT EXISTS
  (SELECT 1 FROM notify_silences s WHERE s.id = notify_pending.silence_id AND s.ends_at > ?)))`;

export type Tracker = ReturnType<typeof createTracker>;

/**
 * The notifier's own durable state: followed alerts with their schedules, and items waiting to
 * be grouped. Over the SQL port (registry/sql/port.ts), one text for both engines: `q` is the
 * port (the data directory's SQLite, or PostgreSQL with GS_POSTGRES_URL) or a transaction of it.
 */
export function createTracker(q: SqlQueries) {
  const many = async (sql: string, params: Array<string | number>): Promise<Tracked[]> => (await q.all<TrackedRow>(sql, params)).map(fromRow);
  return {
    async get(alertId: number): Promise<Tracked | undefined> {
      const row = await q.one<TrackedRow>(`SELECT ${TRACKED_COLUMNS} FROM notify_alerts WHERE alert_id = ?`, [alertId]);
      return row ? fromRow(row) : undefined;
    },
    put: async (t: Tracked, now: number): Promise<void> => {
      await q.run(`INSERT INTO notify_alerts (alert_id, alert, state, team_ids, announced_at, next_reminder_at, escalate_at, escalated_at, reminders, last_seq, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (alert_id) DO UPDATE SET alert = excluded.alert, state = excluded.state, team_ids = excluded.team_ids, announced_at = excluded.announced_at,
          next_reminder_at = excluded.next_reminder_at, escalate_at = excluded.escalate_at, escalated_at = excluded.escalated_at, reminders = excluded.reminders,
          last_seq = excluded.last_seq, updated_at = excluded.updated_at`,
      [t.alert.id, JSON.stringify(t.alert), t.state, JSON.stringify(t.teamIds), t.announcedAt, t.nextReminderAt, t.escalateAt, t.escalatedAt, t.reminders, t.lastSeq, now]);
    },
    /**
     * A due reminder or escalation skipped because the alert store has the alert settled and
     * the transition is not recorded yet: due again at `at`. The transition, once recorded,
     * replaces the schedule; one never recorded (its node died between the commit and the
     * record) would otherwise leave it due, taken up by every tick of every node.
     */
    postpone: async (alertId: number, what: 'reminder' | 'escalation', at: number): Promise<void> => {
      await q.run(`UPDATE notify_alerts SET ${what === 'reminder' ? 'next_reminder_at' : 'escalate_at'} = ? WHERE alert_id = ?`, [at, alertId]);
    },
    dueReminders: (now: number): Promise<Tracked[]> =>
      many(`SELECT ${TRACKED_COLUMNS} FROM notify_alerts WHERE state = 'firing' AND next_reminder_at <= ? ORDER BY next_reminder_at`, [now]),
    dueEscalations: (now: number): Promise<Tracked[]> =>
      many(`SELECT ${TRACKED_COLUMNS} FROM notify_alerts WHERE state = 'firing' AND escalated_at IS NULL AND escalate_at <= ? ORDER BY escalate_at`, [now]),
    markAnnounced: async (alertId: number, now: number): Promise<void> => {
      await q.run('UPDATE notify_alerts SET announced_at = ? WHERE alert_id = ? AND announced_at IS NULL', [now, alertId]);
    },

    addPending: async (alertId: number, teamId: string, audience: Audience, reason: NotifyReason, now: number, holdUntil: number): Promise<void> => {
      await q.run('INSERT INTO notify_pending (alert_id, team_id, audience, reason, created_at, hold_until) VALUES (?, ?, ?, ?, ?, ?)', [alertId, teamId, audience, reason, now, holdUntil]);
    },
    countPending: async (alertId: number, reasons: readonly NotifyReason[]): Promise<number> =>
      (await q.one<{ n: number }>(`SELECT COUNT(*) AS n FROM notify_pending WHERE alert_id = ? AND reason IN (${marks(reasons.length)})`, [alertId, ...reasons]))!.n,
    dropPending: async (alertId: number, reasons: readonly NotifyReason[]): Promise<number> =>
      (await q.run(`DELETE FROM notify_pending WHERE alert_id = ? AND reason IN (${marks(reasons.length)})`, [alertId, ...reasons])).changes,
    /** (team, audience) groups with items releasable now, and the creation time of their oldest such item. */
    releasableGroups: (now: number): Promise<Array<{ teamId: string; audience: Audience; oldest: number }>> =>
      q.all(`SELECT team_id AS "teamId", audience, MIN(created_at) AS oldest FROM notify_pending WHERE ${RELEASABLE} GROUP BY team_id, audience ORDER BY team_id, audience`, [now, now]),
    releasableItems: (teamId: string, audience: Audience, now: number): Promise<PendingItem[]> =>
      q.all(`SELECT id, alert_id AS "alertId", team_id AS "teamId", audience, reason, created_at AS "createdAt" FROM notify_pending
        WHERE team_id = ? AND audience = ? AND ${RELEASABLE} ORDER BY id`, [teamId, audience, now, now]),
    async deleteItems(ids: readonly number[]): Promise<void> {
      for (const id of ids) await q.run('DELETE FROM notify_pending WHERE id = ?', [id]);
    },
    holdItem: async (id: number, until: number, silenceId: number): Promise<void> => {
      await q.run('UPDATE notify_pending SET hold_until = ?, silence_id = ? WHERE id = ?', [until, silenceId, id]);
    },
    pruneSettled: async (before: number): Promise<number> =>
      (await q.run(`DELETE FROM notify_alerts WHERE state <> 'firing' AND updated_at < ? AND NOT EXISTS (SELECT 1 FROM notify_pending p WHERE p.alert_id = notify_alerts.alert_id)`, [before])).changes,
    pendingCount: async (): Promise<number> => (await q.one<{ n: number }>('SELECT COUNT(*) AS n FROM notify_pending'))!.n,
  };
}
