import type { Db } from '../registry/db.ts';
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
}

export interface PendingItem { id: number; alertId: number; teamId: string; audience: Audience; reason: NotifyReason; createdAt: number }

interface TrackedRow { alert: string; state: AlertState; team_ids: string; announced_at: number | null; next_reminder_at: number | null; escalate_at: number | null; escalated_at: number | null; reminders: number }

const fromRow = (r: TrackedRow): Tracked => ({
  alert: Alert.parse(JSON.parse(r.alert)), state: r.state, teamIds: JSON.parse(r.team_ids) as string[], announcedAt: r.announced_at,
  nextReminderAt: r.next_reminder_at, escalateAt: r.escalate_at, escalatedAt: r.escalated_at, reminders: r.reminders,
});

export type Tracker = ReturnType<typeof createTracker>;

/** The notifier's own durable state: followed alerts with their schedules, and items waiting to be grouped. */
export function createTracker(db: Db) {
  const get = db.prepare('SELECT * FROM notify_alerts WHERE alert_id = ?');
  const upsert = db.prepare(`INSERT INTO notify_alerts (alert_id, alert, state, team_ids, announced_at, next_reminder_at, escalate_at, escalated_at, reminders, updated_at)
    VALUES (@id, @alert, @state, @teamIds, @announcedAt, @nextReminderAt, @escalateAt, @escalatedAt, @reminders, @now)
    ON CONFLICT(alert_id) DO UPDATE SET alert = excluded.alert, state = excluded.state, team_ids = excluded.team_ids, announced_at = excluded.announced_at,
      next_reminder_at = excluded.next_reminder_at, escalate_at = excluded.escalate_at, escalated_at = excluded.escalated_at, reminders = excluded.reminders, updated_at = excluded.updated_at`);
  const addPending = db.prepare('INSERT INTO notify_pending (alert_id, team_id, audience, reason, created_at, hold_until) VALUES (?, ?, ?, ?, ?, ?)');

  return {
    get(alertId: number): Tracked | undefined {
      const row = get.get(alertId) as TrackedRow | undefined;
      return row ? fromRow(row) : undefined;
    },
    put(t: Tracked, now: number): void {
      upsert.run({ id: t.alert.id, alert: JSON.stringify(t.alert), state: t.state, teamIds: JSON.stringify(t.teamIds), announcedAt: t.announcedAt,
        nextReminderAt: t.nextReminderAt, escalateAt: t.escalateAt, escalatedAt: t.escalatedAt, reminders: t.reminders, now });
    },
    dueReminders: (now: number): Tracked[] =>
      (db.prepare(`SELECT * FROM notify_alerts WHERE state = 'firing' AND next_reminder_at <= ? ORDER BY next_reminder_at`).all(now) as TrackedRow[]).map(fromRow),
    dueEscalations: (now: number): Tracked[] =>
      (db.prepare(`SELECT * FROM notify_alerts WHERE state = 'firing' AND escalated_at IS NULL AND escalate_at <= ? ORDER BY escalate_at`).all(now) as TrackedRow[]).map(fromRow),
    markAnnounced: (alertId: number, now: number): void =>
      void db.prepare('UPDATE notify_alerts SET announced_at = ? WHERE alert_id = ? AND announced_at IS NULL').run(now, alertId),

    addPending: (alertId: number, teamId: string, audience: Audience, reason: NotifyReason, now: number, holdUntil: number): void =>
      void addPending.run(alertId, teamId, audience, reason, now, holdUntil),
    countPending: (alertId: number, reasons: readonly NotifyReason[]): number =>
      (db.prepare(`SELECT COUNT(*) AS n FROM notify_pending WHERE alert_id = ? AND reason IN (${reasons.map(() => '?').join(',')})`).get(alertId, ...reasons) as { n: number }).n,
    dropPending(alertId: number, reasons: readonly NotifyReason[]): number {
      return db.prepare(`DELETE FROM notify_pending WHERE alert_id = ? AND reason IN (${reasons.map(() => '?').join(',')})`).run(alertId, ...reasons).changes;
    },
    /** (team, audience) groups with items releasable now, and the creation time of their oldest such item. */
    releasableGroups: (now: number): Array<{ teamId: string; audience: Audience; oldest: number }> =>
      db.prepare(`SELECT team_id AS teamId, audience, MIN(created_at) AS oldest FROM notify_pending WHERE hold_until <= ? GROUP BY team_id, audience`).all(now) as Array<{ teamId: string; audience: Audience; oldest: number }>,
    releasableItems: (teamId: string, audience: Audience, now: number): PendingItem[] =>
      db.prepare(`SELECT id, alert_id AS alertId, team_id AS teamId, audience, reason, created_at AS createdAt FROM notify_pending
        WHERE team_id = ? AND audience = ? AND hold_until <= ? ORDER BY id`).all(teamId, audience, now) as PendingItem[],
    deleteItems(ids: readonly number[]): void {
      const del = db.prepare('DELETE FROM notify_pending WHERE id = ?');
      for (const id of ids) del.run(id);
    },
    holdItem: (id: number, until: number, silenceId: number): void =>
      void db.prepare('UPDATE notify_pending SET hold_until = ?, silence_id = ? WHERE id = ?').run(until, silenceId, id),
    pruneSettled: (before: number): number =>
      db.prepare(`DELETE FROM notify_alerts WHERE state != 'firing' AND updated_at < ? AND NOT EXISTS (SELECT 1 FROM notify_pending p WHERE p.alert_id = notify_alerts.alert_id)`).run(before).changes,
    pendingCount: (): number => (db.prepare('SELECT COUNT(*) AS n FROM notify_pending').get() as { n: number }).n,
  };
}
