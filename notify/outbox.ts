import { z } from 'zod';
import type { Db } from '../registry/db.ts';
import { Channel } from '../contracts/team.ts';
import type { Delivery } from './channels/index.ts';
import { channelKey } from './channels/index.ts';

export const OUTBOX_STATES = ['pending', 'sending', 'sent', 'failed'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

export const OutboxQuery = z.strictObject({
  state: z.enum(OUTBOX_STATES).optional(),
  /** A channel key (`dingtalk:ab12…`) or a channel type (`dingtalk`). */
  channel: z.string().max(80).optional(),
  alert: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type OutboxQuery = z.infer<typeof OutboxQuery>;

export interface NewOutboxRow {
  teamId: string;
  audience: 'team' | 'supervisor';
  channel: Channel;
  payload: Pick<Delivery, 'message' | 'alerts' | 'mentionMobiles'>;
}

export interface ClaimedRow { id: number; attempts: number; channel: Channel; channelKey: string; delivery: Delivery; createdAt: number }

interface Row {
  id: number; created_at: number; team_id: string; audience: 'team' | 'supervisor'; channel_key: string; channel_type: string; channel: string;
  alert_ids: string; reasons: string; payload: string; state: OutboxState; attempts: number; next_attempt_at: number; last_error: string | null; sent_at: number | null;
}

export type Outbox = ReturnType<typeof createOutbox>;

const titleOf = (payload: string): string => {
  try {
    return (JSON.parse(payload) as Pick<Delivery, 'message'>).message.title;
  } catch {
    return '(unreadable)';
  }
};

/**
 * The durable outbox. A message is a row before anyone tries to send it, so a restart
 * loses nothing; rows claimed by a process that died (`sending`) go back to `pending`
 * at start — delivery is at least once, and each carries its row id for receivers to dedup.
 */
export function createOutbox(db: Db) {
  const insert = db.prepare(`INSERT INTO notify_outbox (created_at, team_id, audience, channel_key, channel_type, channel, alert_ids, reasons, payload, next_attempt_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const selectDue = db.prepare(`SELECT * FROM notify_outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`);
  const setSending = db.prepare(`UPDATE notify_outbox SET state = 'sending' WHERE id = ?`);
  const setSent = db.prepare(`UPDATE notify_outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL WHERE id = ?`);
  const setRetry = db.prepare(`UPDATE notify_outbox SET state = 'pending', attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?`);
  const setFailed = db.prepare(`UPDATE notify_outbox SET state = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?`);
  const claim = db.transaction((now: number, limit: number) => {
    const rows = selectDue.all(now, limit) as Row[];
    for (const r of rows) setSending.run(r.id);
    return rows;
  });

  /** Rows matching `q`'s own filters, newest first, below id `before` when given. */
  const select = (q: OutboxQuery, before: number | undefined, limit: number): Row[] => {
    const where: string[] = [];
    const args: unknown[] = [];
    if (before !== undefined) { where.push('id < ?'); args.push(before); }
    if (q.state) { where.push('state = ?'); args.push(q.state); }
    if (q.channel) { where.push(q.channel.includes(':') ? 'channel_key = ?' : 'channel_type = ?'); args.push(q.channel); }
    if (q.alert) { where.push('EXISTS (SELECT 1 FROM json_each(notify_outbox.alert_ids) WHERE value = ?)'); args.push(q.alert); }
    const sql = `SELECT id, created_at, team_id, audience, channel_key, channel_type, alert_ids, reasons, payload, state, attempts, next_attempt_at, last_error, sent_at
      FROM notify_outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return db.prepare(sql).all(...args, limit) as Row[];
  };

  return {
    enqueue(rows: readonly NewOutboxRow[], now: number): number[] {
      return rows.map((r) => {
        const ids = r.payload.alerts.map((a) => a.alert.id);
        const reasons = r.payload.alerts.map((a) => a.reason);
        return Number(insert.run(now, r.teamId, r.audience, channelKey(r.channel), r.channel.type, JSON.stringify(r.channel), JSON.stringify(ids), JSON.stringify(reasons), JSON.stringify(r.payload), now).lastInsertRowid);
      });
    },
    /** Rows a previous process claimed but never settled go back to the queue. */
    recoverInFlight(): number {
      return db.prepare(`UPDATE notify_outbox SET state = 'pending' WHERE state = 'sending'`).run().changes;
    },
    /** Claim due rows (marked `sending`); a row that no longer parses is failed, not retried forever. */
    claimDue(now: number, limit: number): ClaimedRow[] {
      const out: ClaimedRow[] = [];
      for (const r of claim(now, limit)) {
        try {
          const payload = JSON.parse(r.payload) as Pick<Delivery, 'message' | 'alerts' | 'mentionMobiles'>;
          out.push({
            id: r.id,
            attempts: r.attempts,
            channel: Channel.parse(JSON.parse(r.channel)),
            channelKey: r.channel_key,
            createdAt: r.created_at,
            delivery: { id: r.id, teamId: r.team_id, audience: r.audience, ...payload },
          });
        } catch (error) {
          setFailed.run(`unreadable outbox row: ${(error as Error).message}`.slice(0, 500), r.id);
        }
      }
      return out;
    },
    markSent: (id: number, now: number) => void setSent.run(now, id),
    markRetry: (id: number, error: string, nextAttemptAt: number) => void setRetry.run(nextAttemptAt, error.slice(0, 500), id),
    markFailed: (id: number, error: string) => void setFailed.run(error.slice(0, 500), id),
    /** An operator retries a given-up row: it starts over with a full set of attempts. */
    requeue(id: number, now: number): boolean {
      return db.prepare(`UPDATE notify_outbox SET state = 'pending', attempts = 0, next_attempt_at = ? WHERE id = ? AND state = 'failed'`).run(now, id).changes > 0;
    },
    /** Forget settled rows older than `before` (the outbox is a queue, not an archive). */
    prune(before: number): number {
      return db.prepare(`DELETE FROM notify_outbox WHERE state IN ('sent', 'failed') AND created_at < ?`).run(before).changes;
    },
    /** The alerts a delivery is about (undefined: no such delivery). */
    alertIdsOf(id: number): number[] | undefined {
      const row = db.prepare('SELECT alert_ids FROM notify_outbox WHERE id = ?').get(id) as { alert_ids: string } | undefined;
      return row && (JSON.parse(row.alert_ids) as number[]);
    },
    /** Earliest time a pending row becomes due, for the worker's sleep. */
    nextDueAt(): number | undefined {
      const row = db.prepare(`SELECT MIN(next_attempt_at) AS t FROM notify_outbox WHERE state = 'pending'`).get() as { t: number | null };
      return row.t ?? undefined;
    },
    backlog(now: number): { pending: number; oldestAgeS: number } {
      const row = db.prepare(`SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM notify_outbox WHERE state IN ('pending', 'sending')`).get() as { n: number; oldest: number | null };
      return { pending: row.n, oldestAgeS: row.oldest === null ? 0 : Math.max(0, (now - row.oldest) / 1000) };
    },
    /** Every delivery matching `q`, newest first, unconfined (an admin or a city-wide caller). */
    list(q: OutboxQuery): OutboxView[] {
      return select(q, undefined, q.limit).map(toView);
    },
    /**
     * Only deliveries whose every alert lies in `districts` (a confined caller: a message about
     * another district's alert is not theirs to read). The alerts are asked of `districtsOf`,
     * which reads them where they live (the alert service: SQLite, or PostgreSQL on a clustered
     * node, where this node's SQLite has no alerts to join): newest rows first, a page at a time,
     * until `q.limit` are in scope or the outbox (pruned to a few days) is read to its end.
     */
    async listInDistricts(q: OutboxQuery, districts: readonly string[], districtsOf: AlertDistricts): Promise<OutboxView[]> {
      const allowed = new Set(districts);
      const out: OutboxView[] = [];
      let before: number | undefined;
      for (;;) {
        const rows = select(q, before, SCOPE_PAGE);
        if (rows.length === 0) return out;
        const ids = [...new Set(rows.flatMap((r) => JSON.parse(r.alert_ids) as number[]))];
        const where = new Map<number, string | null>();
        for (let i = 0; i < ids.length; i += ALERTS_PER_LOOKUP) {
          for (const [id, d] of await districtsOf(ids.slice(i, i + ALERTS_PER_LOOKUP))) where.set(id, d);
        }
        for (const r of rows) {
          const alertIds = JSON.parse(r.alert_ids) as number[];
          if (alertIds.every((id) => { const d = where.get(id); return d !== undefined && d !== null && allowed.has(d); })) out.push(toView(r));
          if (out.length >= q.limit) return out;
        }
        before = rows[rows.length - 1]!.id;
      }
    },
  };
}

/** Each alert's district (null: none; missing: no such alert), read where the alerts live. */
export type AlertDistricts = (alertIds: readonly number[]) => Promise<ReadonlyMap<number, string | null>>;

/** Rows read per round of a confined list, and alert ids per lookup (one IN list each). */
const SCOPE_PAGE = 200;
const ALERTS_PER_LOOKUP = 500;

export type OutboxView = ReturnType<typeof toView>;

function toView(r: Row) {
  return {
    id: r.id,
    createdAt: new Date(r.created_at).toISOString(),
    team: r.team_id,
    audience: r.audience,
    channel: r.channel_key,
    channelType: r.channel_type,
    alertIds: JSON.parse(r.alert_ids) as number[],
    reasons: JSON.parse(r.reasons) as string[],
    title: titleOf(r.payload),
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.state === 'pending' ? new Date(r.next_attempt_at).toISOString() : null,
    lastError: r.last_error,
    sentAt: r.sent_at === null ? null : new Date(r.sent_at).toISOString(),
  };
}
