import { z } from 'zod';
import type { AlertSignal } from '../contracts/alert.ts';
import { MoistureBand } from '../contracts/zone.ts';
import { ZoneSettingsOverride } from '../rules/irrigation/settings.ts';
import { ZoneIrrigationState, type Decision } from '../rules/irrigation/state.ts';
import type { Logger } from '../lib/logger.ts';
import type { Sql, SqlQueries, SqlValue } from '../registry/sql/port.ts';
import { CodedError } from '../lib/errors.ts';

/** What an operator may override on one zone, over the inventory's configuration. */
export const ZoneOverride = z.strictObject({
  band: MoistureBand.optional(),
  windows: z.array(z.string().min(1).max(100)).max(20).optional(),
  settings: ZoneSettingsOverride.strict().optional(),
});
export type ZoneOverride = z.infer<typeof ZoneOverride>;

export interface StoredDecision extends Decision {
  id: number;
}

export interface StoredSignal {
  id: number; at: number; action: string; kind: string; severity: string | null; message: string | null; details: unknown;
}

interface DecisionRow {
  id: number; zone_id: string; at: number; action: Decision['action']; reason: string; mode: Decision['mode']; run_id: string | null;
  actor: string | null; duration_s: number | null; volume_l: number | null; inputs: string;
}

export type IrrigationStore = ReturnType<typeof createIrrigationStore>;

/** The lease a write is made under: the community's key and this node's fencing token for it (cluster/lease-store.ts). */
export interface Fence {
  community: string;
  token: number;
}

/** A write refused because a newer lease on the community was claimed (irrigation/fence.ts): this node is no longer its owner. */
export class FencedWriteError extends CodedError {
  readonly community: string;
  readonly token: number;
  constructor(fence: Fence) {
    super('fenced', `community ${fence.community}: token ${fence.token} is older than the one claimed by its current owner; write refused`);
    this.community = fence.community;
    this.token = fence.token;
  }
}

/**
 * Raise the community's fence to `fence.token` unless a greater one is there; true when it is
 * ours after the statement. The upsert takes the row's lock, so a claim and a fenced write
 * of the same community run one after the other across nodes, and each sees the other's
 * committed token (READ COMMITTED re-checks the WHERE on the row's latest version).
 */
async function raiseFence(q: SqlQueries, fence: Fence, at: number): Promise<boolean> {
  const row = await q.one<{ token: number }>(
    `INSERT INTO community_fences (community_id, token, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (community_id) DO UPDATE SET token = excluded.token, updated_at = excluded.updated_at
     WHERE community_fences.token <= excluded.token RETURNING token`,
    [fence.community, fence.token, at]);
  return row !== undefined;
}

/** Zone ids per `IN (…)` list: far below both engines' limits on parameters (SQLite 32,766, PostgreSQL 65,535). */
const IN_CHUNK = 500;

/**
 * The irrigation engine's persistence over the SQL port (registry/sql/port.ts), one text for
 * both engines: the data directory's SQLite (migration 020) in one process, PostgreSQL
 * (registry/pg-migrations/002-irrigation.sql) when GS_POSTGRES_URL is set, so a node that takes
 * a community over reads the state, runs and overrides its previous owner wrote.
 */
export function createIrrigationStore(sql: Sql, logger: Logger) {
  /** Rows of `select` for the given zones (every zone when `zoneIds` is undefined), in chunks. */
  const rowsFor = async <T>(select: string, zoneIds: readonly string[] | undefined): Promise<T[]> => {
    if (!zoneIds) return sql.all<T>(select);
    const rows: T[] = [];
    for (let i = 0; i < zoneIds.length; i += IN_CHUNK) {
      const chunk = zoneIds.slice(i, i + IN_CHUNK);
      rows.push(...await sql.all<T>(`${select} WHERE zone_id IN (${chunk.map(() => '?').join(', ')})`, chunk));
    }
    return rows;
  };

  /** Each zone's JSON `column` of `table` read with `schema`: a row that no longer parses is logged (`unreadable`) and left out. */
  const parsedByZone = async <T>(table: string, column: string, schema: z.ZodType<T>, zoneIds: readonly string[] | undefined, unreadable: string): Promise<Map<string, T>> => {
    const parsedRows = new Map<string, T>();
    for (const row of await rowsFor<{ zone_id: string; value: string }>(`SELECT zone_id, ${column} AS value FROM ${table}`, zoneIds)) {
      const parsed = schema.safeParse(JSON.parse(row.value));
      if (parsed.success) parsedRows.set(row.zone_id, parsed.data);
      else logger.error({ zoneId: row.zone_id, issues: parsed.error.issues.slice(0, 3) }, unreadable);
    }
    return parsedRows;
  };

  /** The operators' overrides: every zone's, or the given zones'. One that no longer parses is logged and left out (the zone runs on its configuration). */
  const loadOverrides = (zoneIds?: readonly string[]): Promise<Map<string, ZoneOverride>> =>
    parsedByZone('irrigation_overrides', 'override', ZoneOverride, zoneIds, 'persisted irrigation override unreadable; zone runs on its configuration');

  return {
    /**
     * The persisted zone states: every zone's, or the given zones' (a community taken over). A
     * row that no longer parses is logged and dropped (the zone starts afresh).
     */
    loadStates: (zoneIds?: readonly string[]): Promise<Map<string, ZoneIrrigationState>> =>
      parsedByZone('irrigation_state', 'state', ZoneIrrigationState, zoneIds, 'persisted irrigation state unreadable; zone starts afresh'),
    /**
     * The states in one transaction (all or none). With a `fence` (clustered, PostgreSQL), only
     * if no newer owner of the community claimed it: otherwise nothing is written and
     * FencedWriteError is thrown. Without (one process): as always.
     */
    async saveStates(states: readonly ZoneIrrigationState[], at: number, fence?: Fence): Promise<void> {
      if (states.length === 0) return;
      await sql.transaction(async (tx) => {
        if (fence && !(await raiseFence(tx, fence, at))) throw new FencedWriteError(fence);
        for (const s of states) {
          await tx.run('INSERT INTO irrigation_state (zone_id, state, updated_at) VALUES (?, ?, ?) ON CONFLICT (zone_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
            [s.zoneId, JSON.stringify(s), at]);
        }
      });
    },

    /** A node taking the community over claims it (before reading its zones' state): false when a newer owner already has. */
    claimFence: (fence: Fence, at: number): Promise<boolean> => sql.transaction((tx) => raiseFence(tx, fence, at)),

    async addDecision(d: Decision): Promise<void> {
      await sql.run(
        `INSERT INTO irrigation_decisions (zone_id, at, action, reason, mode, run_id, actor, duration_s, volume_l, moisture, inputs)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [d.zoneId, d.at, d.action, d.reason, d.mode, d.runId ?? null, d.actor ?? null, d.durationS ?? null, d.volumeL ?? null, d.inputs.moisture ?? null, JSON.stringify(d.inputs)],
      );
    },
    async listDecisions(zoneId: string, opts: { limit: number; since?: number; action?: string }): Promise<StoredDecision[]> {
      const params: SqlValue[] = [zoneId, opts.since ?? 0, ...(opts.action ? [opts.action] : []), opts.limit];
      const rows = await sql.all<DecisionRow>(
        `SELECT * FROM irrigation_decisions WHERE zone_id = ? AND at >= ? ${opts.action ? 'AND action = ?' : ''} ORDER BY at DESC, id DESC LIMIT ?`, params);
      return rows.map((r) => ({
        id: r.id, zoneId: r.zone_id, at: r.at, action: r.action, reason: r.reason, mode: r.mode, runId: r.run_id ?? undefined,
        actor: r.actor ?? undefined, durationS: r.duration_s ?? undefined, volumeL: r.volume_l ?? undefined, inputs: JSON.parse(r.inputs),
      }));
    },

    async addSignal(s: AlertSignal): Promise<void> {
      const insert = 'INSERT INTO irrigation_signals (at, action, kind, subject, severity, message, community_id, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';
      if (s.action === 'raise') await sql.run(insert, [s.at, s.action, s.kind, s.subject, s.severity, s.message, s.communityId ?? null, s.details ? JSON.stringify(s.details) : null]);
      else await sql.run(insert, [s.at, s.action, s.kind, s.subject, null, s.reason ?? null, null, null]);
    },
    async listSignals(subject: string, limit: number): Promise<StoredSignal[]> {
      const rows = await sql.all<Omit<StoredSignal, 'details'> & { details: string | null }>(
        'SELECT id, at, action, kind, severity, message, details FROM irrigation_signals WHERE subject = ? ORDER BY at DESC, id DESC LIMIT ?', [subject, limit]);
      return rows.map((r) => ({ id: r.id, at: r.at, action: r.action, kind: r.kind, severity: r.severity, message: r.message, details: r.details ? JSON.parse(r.details) : null }));
    },

    loadOverrides,
    async getOverride(zoneId: string): Promise<ZoneOverride | undefined> {
      return (await loadOverrides([zoneId])).get(zoneId);
    },
    async setOverride(zoneId: string, override: ZoneOverride, by: string, at: number): Promise<void> {
      await sql.run('INSERT INTO irrigation_overrides (zone_id, override, updated_by, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (zone_id) DO UPDATE SET override = excluded.override, updated_by = excluded.updated_by, updated_at = excluded.updated_at',
        [zoneId, JSON.stringify(override), by, at]);
    },
  };
}
