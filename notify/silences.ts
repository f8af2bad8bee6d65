import { z } from 'zod';
import type { Sql, SqlQueries } from '../registry/sql/port.ts';
import { AlertKind } from '../contracts/alert.ts';
import { EntityId } from '../contracts/device.ts';
import type { Silence } from './policy.ts';

/** A maintenance window: at least one of community / subject / kind, and a time range. */
export const NewSilence = z.strictObject({
  communityId: EntityId.optional(),
  subject: z.string().min(1).max(128).optional(),
  kind: AlertKind.optional(),
  startsAt: z.iso.datetime({ offset: true }).optional(),
  endsAt: z.iso.datetime({ offset: true }),
  comment: z.string().min(1).max(500),
  createdBy: z.string().max(64).optional(),
}).refine((s) => s.communityId || s.subject || s.kind, { message: 'a silence needs communityId, subject or kind (silencing everything is not allowed)', path: ['communityId'] });
export type NewSilence = z.infer<typeof NewSilence>;

export const SilenceView = z.object({
  id: z.number(),
  communityId: z.string().nullable(),
  subject: z.string().nullable(),
  kind: z.string().nullable(),
  startsAt: z.string(),
  endsAt: z.string(),
  comment: z.string(),
  createdBy: z.string().nullable(),
  active: z.boolean(),
});
export type SilenceView = z.infer<typeof SilenceView>;

interface Row { id: number; community_id: string | null; subject: string | null; kind: string | null; starts_at: number; ends_at: number; comment: string; created_by: string | null }

const toSilence = (r: Row): Silence => ({ id: r.id, communityId: r.community_id, subject: r.subject, kind: r.kind, startsAt: r.starts_at, endsAt: r.ends_at });

export type SilenceStore = ReturnType<typeof createSilenceStore>;

const COLUMNS = 'id, community_id, subject, kind, starts_at, ends_at, comment, created_by';

/**
 * Silences over the SQL port (registry/sql/port.ts): the data directory's SQLite, or PostgreSQL
 * with GS_POSTGRES_URL, where a silence created through any node holds the items every node flushes.
 */
export function createSilenceStore(sql: Sql) {
  const view = (r: Row, now: number): SilenceView => ({
    id: r.id, communityId: r.community_id, subject: r.subject, kind: r.kind,
    startsAt: new Date(r.starts_at).toISOString(), endsAt: new Date(r.ends_at).toISOString(),
    comment: r.comment, createdBy: r.created_by, active: now >= r.starts_at && now < r.ends_at,
  });
  return {
    async create(s: NewSilence, now: number): Promise<SilenceView> {
      const startsAt = s.startsAt ? Date.parse(s.startsAt) : now;
      const endsAt = Date.parse(s.endsAt);
      const row = await sql.one<Row>(`INSERT INTO notify_silences (community_id, subject, kind, starts_at, ends_at, comment, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        RETURNING ${COLUMNS}`, [s.communityId ?? null, s.subject ?? null, s.kind ?? null, startsAt, endsAt, s.comment, s.createdBy ?? null, now]);
      return view(row!, now);
    },
    /** One silence's place (undefined: no such silence). */
    async communityOf(id: number): Promise<{ communityId: string | null } | undefined> {
      const row = await sql.one<{ community_id: string | null }>('SELECT community_id FROM notify_silences WHERE id = ?', [id]);
      return row && { communityId: row.community_id };
    },
    /** Silences not yet over (active or scheduled), then recently ended ones when `includeExpired`. */
    async list(now: number, includeExpired = false): Promise<SilenceView[]> {
      const rows = await sql.all<Row>(`SELECT ${COLUMNS} FROM notify_silences ${includeExpired ? '' : 'WHERE ends_at > ?'} ORDER BY starts_at, id`, includeExpired ? [] : [now]);
      return rows.map((r) => view(r, now));
    },
    /**
     * Delete a silence; what it held is released at the next tick on any node (tracker.ts
     * `RELEASABLE`: an item whose silence is gone) and checked against the other silences then.
     */
    remove: async (id: number): Promise<boolean> => (await sql.run('DELETE FROM notify_silences WHERE id = ?', [id])).changes > 0,
    /** Silences in force now (`q`: the port, or the flush's transaction). */
    async active(now: number, q: SqlQueries = sql): Promise<Silence[]> {
      return (await q.all<Row>(`SELECT ${COLUMNS} FROM notify_silences WHERE starts_at <= ? AND ends_at > ?`, [now, now])).map(toSilence);
    },
  };
}
