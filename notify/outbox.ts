import { z } from 'zod';
import type { SqlQueries, SqlValue } from '../registry/sql/port.ts';
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

const ROW_COLUMNS = 'id, created_at, team_id, audience, channel_key, channel_type, channel, alert_ids, reasons, payload, state, attempts, next_attempt_at, last_error, sent_at';

/** Who is sending a claimed row and until when (see claimDue). */
export interface Claim { by: string; untilMs: number }

/**
 * The durable outbox over the SQL port (registry/sql/port.ts): the data directory's SQLite, or
 * PostgreSQL with GS_POSTGRES_URL, shared by every node. A message is a row before anyone tries
 * to send it, so a restart loses nothing. A row being sent is claimed (`sending`, by whom, until
 * when); a claim that expires — its worker died or hung — is taken again by any worker, so
 * delivery is at least once, and each message carries its row id for receivers to dedup.
 */
export function createOutbox(q: SqlQueries) {
  /** Settle a row; with `claimant`, only while that claimant still holds it (a claim taken over is the new holder's to settle). */
  const settle = async (set: string, params: SqlValue[], id: number, claimant?: string): Promise<void> => {
    await q.run(`UPDATE notify_outbox SET ${set}, claimed_by = NULL, claimed_until = NULL WHERE id = ?${claimant === undefined ? '' : ' AND claimed_by = ?'}`,
      [...params, id, ...(claimant === undefined ? [] : [claimant])]);
  };
  const markFailed = (id: number, error: string, claimant?: string) => settle(`state = 'failed', attempts = attempts + 1, last_error = ?`, [error.slice(0, 500)], id, claimant);

  /** Rows matching `q`'s own filters, newest first, below id `before` when given. */
  const select = (query: OutboxQuery, before: number | undefined, limit: number): Promise<Row[]> => {
    const where: string[] = [];
    const args: SqlValue[] = [];
    if (before !== undefined) { where.push('id < ?'); args.push(before); }
    if (query.state) { where.push('state = ?'); args.push(query.state); }
    if (query.channel) { where.push(query.channel.includes(':') ? 'channel_key = ?' : 'channel_type = ?'); args.push(query.channel); }
    if (query.alert) {
      if (q.dialect === 'postgres') { where.push('alert_ids::jsonb @> ?::jsonb'); args.push(JSON.stringify([query.alert])); }
      else { where.push('EXISTS (SELECT 1 FROM json_each(notify_outbox.alert_ids) WHERE value = ?)'); args.push(query.alert); }
    }
    return q.all<Row>(`SELECT ${ROW_COLUMNS} FROM notify_outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`, [...args, limit]);
  };

  return {
    async enqueue(rows: readonly NewOutboxRow[], now: number): Promise<number[]> {
      const ids: number[] = [];
      for (const r of rows) {
        const alertIds = r.payload.alerts.map((a) => a.alert.id);
        const reasons = r.payload.alerts.map((a) => a.reason);
        const row = await q.one<{ id: number }>(`INSERT INTO notify_outbox (created_at, team_id, audience, channel_key, channel_type, channel, alert_ids, reasons, payload, next_attempt_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        [now, r.teamId, r.audience, channelKey(r.channel), r.channel.type, JSON.stringify(r.channel), JSON.stringify(alertIds), JSON.stringify(reasons), JSON.stringify(r.payload), now]);
        ids.push(row!.id);
      }
      return ids;
    },
    /**
     * Rows a previous run of this process claimed but never settled go back to the queue: on
     * SQLite every `sending` row (the data directory is this process's alone, it is locked). On
     * PostgreSQL nothing: a `sending` row there may be another live node's, and one whose node
     * died is taken again once its claim expires (claimDue).
     */
    async recoverInFlight(): Promise<number> {
      if (q.dialect === 'postgres') return 0;
      return (await q.run(`UPDATE notify_outbox SET state = 'pending', claimed_by = NULL, claimed_until = NULL WHERE state = 'sending'`)).changes;
    },
    /** A worker stopping hands back what it still holds, so another node need not wait for the claims to expire. */
    async release(claimant: string): Promise<number> {
      return (await q.run(`UPDATE notify_outbox SET state = 'pending', claimed_by = NULL, claimed_until = NULL WHERE state = 'sending' AND claimed_by = ?`, [claimant])).changes;
    },
    /**
     * Claim up to `limit` rows due at `now` — pending ones whose attempt is due, and `sending`
     * ones whose claim expired — for `claim.by` until `claim.untilMs`, in one statement: on
     * PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, so two nodes claiming at once take
     * different rows and a row is sent by one node at a time. A row that no longer parses is
     * failed, not retried forever.
     */
    async claimDue(now: number, limit: number, claim: Claim): Promise<ClaimedRow[]> {
      const rows = await q.all<Row>(`UPDATE notify_outbox SET state = 'sending', claimed_by = ?, claimed_until = ?
        WHERE id IN (SELECT id FROM notify_outbox WHERE (state = 'pending' AND next_attempt_at <= ?) OR (state = 'sending' AND claimed_until <= ?)
          ORDER BY next_attempt_at, id LIMIT ?${q.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : ''})
        RETURNING ${ROW_COLUMNS}`, [claim.by, claim.untilMs, now, now, limit]);
      rows.sort((a, b) => a.next_attempt_at - b.next_attempt_at || a.id - b.id);
      const out: ClaimedRow[] = [];
      for (const r of rows) {
        try {
          out.push(toClaimed(r));
        } catch (error) {
          await markFailed(r.id, `unreadable outbox row: ${(error as Error).message}`, claim.by);
        }
      }
      return out;
    },
    markSent: (id: number, now: number, claimant?: string) => settle(`state = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL`, [now], id, claimant),
    markRetry: (id: number, error: string, nextAttemptAt: number, claimant?: string) =>
      settle(`state = 'pending', attempts = attempts + 1, next_attempt_at = ?, last_error = ?`, [nextAttemptAt, error.slice(0, 500)], id, claimant),
    markFailed,
    /** An operator retries a given-up row: it starts over with a full set of attempts. */
    async requeue(id: number, now: number): Promise<boolean> {
      return (await q.run(`UPDATE notify_outbox SET state = 'pending', attempts = 0, next_attempt_at = ? WHERE id = ? AND state = 'failed'`, [now, id])).changes > 0;
    },
    /** Forget settled rows older than `before` (the outbox is a queue, not an archive). */
    async prune(before: number): Promise<number> {
      return (await q.run(`DELETE FROM notify_outbox WHERE state IN ('sent', 'failed') AND created_at < ?`, [before])).changes;
    },
    /** The alerts a delivery is about (undefined: no such delivery). */
    async alertIdsOf(id: number): Promise<number[] | undefined> {
      const row = await q.one<{ alert_ids: string }>('SELECT alert_ids FROM notify_outbox WHERE id = ?', [id]);
      return row && (JSON.parse(row.alert_ids) as number[]);
    },
    /** Earliest time a pending row becomes due, for the worker's sleep. */
    async nextDueAt(): Promise<number | undefined> {
      const row = await q.one<{ t: number | null }>(`SELECT MIN(next_attempt_at) AS t FROM notify_outbox WHERE state = 'pending'`);
      return row?.t ?? undefined;
    },
    async backlog(now: number): Promise<{ pending: number; oldestAgeS: number }> {
      const row = (await q.one<{ n: number; oldest: number | null }>(`SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM notify_outbox WHERE state IN ('pending', 'sending')`))!;
      return { pending: row.n, oldestAgeS: row.oldest === null ? 0 : Math.max(0, (now - row.oldest) / 1000) };
    },
    /** Every delivery matching `query`, newest first, unconfined (an admin or a city-wide caller). */
    async list(query: OutboxQuery): Promise<OutboxView[]> {
      return (await select(query, undefined, query.limit)).map(toView);
    },
    /**
     * Only deliveries whose every alert lies in `districts` (a confined caller: a message about
     * another district's alert is not theirs to read); see listInDistricts below.
     */
    listInDistricts: (query: OutboxQuery, districts: readonly string[], districtsOf: AlertDistricts): Promise<OutboxView[]> =>
      listInDistricts(select, query, districts, districtsOf),
  };
}

/** A claimed row as the worker sends it; throws when the stored channel or payload no longer parses. */
function toClaimed(r: Row): ClaimedRow {
  const payload = JSON.parse(r.payload) as Pick<Delivery, 'message' | 'alerts' | 'mentionMobiles'>;
  return {
    id: r.id,
    attempts: r.attempts,
    channel: Channel.parse(JSON.parse(r.channel)),
    channelKey: r.channel_key,
    createdAt: r.created_at,
    delivery: { id: r.id, teamId: r.team_id, audience: r.audience, ...payload },
  };
}

/**
 * The deliveries matching `query` whose every alert lies in `districts`. The alerts are asked of
 * `districtsOf`, which reads them where they live (the alert service: SQLite, or PostgreSQL on a
 * clustered node): newest rows first, a page at a time, until `query.limit` are in scope or the
 * outbox (pruned to a few days) is read to its end.
 */
async function listInDistricts(
  select: (query: OutboxQuery, before: number | undefined, limit: number) => Promise<Row[]>,
  query: OutboxQuery, districts: readonly string[], districtsOf: AlertDistricts,
): Promise<OutboxView[]> {
  const allowed = new Set(districts);
  const out: OutboxView[] = [];
  let before: number | undefined;
  for (;;) {
    const rows = await select(query, before, SCOPE_PAGE);
    if (rows.length === 0) return out;
    const ids = [...new Set(rows.flatMap((r) => JSON.parse(r.alert_ids) as number[]))];
    const where = new Map<number, string | null>();
    for (let i = 0; i < ids.length; i += ALERTS_PER_LOOKUP) {
      for (const [id, d] of await districtsOf(ids.slice(i, i + ALERTS_PER_LOOKUP))) where.set(id, d);
    }
    for (const r of rows) {
      const alertIds = JSON.parse(r.alert_ids) as number[];
      if (alertIds.every((id) => { const d = where.get(id); return d !== undefined && d !== null && allowed.has(d); })) out.push(toView(r));
      if (out.length >= query.limit) return out;
    }
    before = rows[rows.length - 1]!.id;
  }
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
