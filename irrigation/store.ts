import { z } from 'zod';
import type { Db } from '../registry/db.ts';
import type { AlertSignal } from '../contracts/alert.ts';
import { MoistureBand } from '../contracts/zone.ts';
import { ZoneSettingsOverride } from '../rules/irrigation/settings.ts';
import { ZoneIrrigationState, type Decision } from '../rules/irrigation/state.ts';
import type { Logger } from '../lib/logger.ts';

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

interface DecisionRow {
  id: number; zone_id: string; at: number; action: Decision['action']; reason: string; mode: Decision['mode']; run_id: string | null;
  actor: string | null; duration_s: number | null; volume_l: number | null; inputs: string;
}

export type IrrigationStore = ReturnType<typeof createIrrigationStore>;

/** SQLite persistence of the irrigation engine (migration 020). */
export function createIrrigationStore(db: Db, logger: Logger) {
  const upsertState = db.prepare('INSERT INTO irrigation_state (zone_id, state, updated_at) VALUES (?, ?, ?) ON CONFLICT(zone_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at');
  const saveAll = db.transaction((states: ZoneIrrigationState[], at: number) => {
    for (const s of states) upsertState.run(s.zoneId, JSON.stringify(s), at);
  });
  const insertDecision = db.prepare(
    `INSERT INTO irrigation_decisions (zone_id, at, action, reason, mode, run_id, actor, duration_s, volume_l, moisture, inputs)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertSignal = db.prepare('INSERT INTO irrigation_signals (at, action, kind, subject, severity, message, community_id, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');

  return {
    /** Every persisted zone state; a row that no longer parses is logged and dropped (the zone starts afresh). */
    loadStates(): Map<string, ZoneIrrigationState> {
      const states = new Map<string, ZoneIrrigationState>();
      for (const row of db.prepare('SELECT zone_id, state FROM irrigation_state').all() as Array<{ zone_id: string; state: string }>) {
        const parsed = ZoneIrrigationState.safeParse(JSON.parse(row.state));
        if (parsed.success) states.set(row.zone_id, parsed.data);
        else logger.error({ zoneId: row.zone_id, issues: parsed.error.issues.slice(0, 3) }, 'persisted irrigation state unreadable; zone starts afresh');
      }
      return states;
    },
    saveStates(states: ZoneIrrigationState[], at: number): void {
      saveAll(states, at);
    },

    addDecision(d: Decision): void {
      insertDecision.run(d.zoneId, d.at, d.action, d.reason, d.mode, d.runId ?? null, d.actor ?? null, d.durationS ?? null, d.volumeL ?? null,
        d.inputs.moisture ?? null, JSON.stringify(d.inputs));
    },
    listDecisions(zoneId: string, opts: { limit: number; since?: number; action?: string }): StoredDecision[] {
      const rows = db.prepare(
        `SELECT * FROM irrigation_decisions WHERE zone_id = ? AND at >= ? ${opts.action ? 'AND action = ?' : ''} ORDER BY at DESC, id DESC LIMIT ?`,
      ).all(...[zoneId, opts.since ?? 0, ...(opts.action ? [opts.action] : []), opts.limit]) as DecisionRow[];
      return rows.map((r) => ({
        id: r.id, zoneId: r.zone_id, at: r.at, action: r.action, reason: r.reason, mode: r.mode, runId: r.run_id ?? undefined,
        actor: r.actor ?? undefined, durationS: r.duration_s ?? undefined, volumeL: r.volume_l ?? undefined, inputs: JSON.parse(r.inputs),
      }));
    },

    addSignal(s: AlertSignal): void {
      if (s.action === 'raise') insertSignal.run(s.at, s.action, s.kind, s.subject, s.severity, s.message, s.communityId ?? null, s.details ? JSON.stringify(s.details) : null);
      else insertSignal.run(s.at, s.action, s.kind, s.subject, null, s.reason ?? null, null, null);
    },
    listSignals(subject: string, limit: number): Array<{ id: number; at: number; action: string; kind: string; severity: string | null; message: string | null; details: unknown }> {
      const rows = db.prepare('SELECT * FROM irrigation_signals WHERE subject = ? ORDER BY at DESC, id DESC LIMIT ?').all(subject, limit) as Array<{
        id: number; at: number; action: string; kind: string; severity: string | null; message: string | null; details: string | null;
      }>;
      return rows.map((r) => ({ id: r.id, at: r.at, action: r.action, kind: r.kind, severity: r.severity, message: r.message, details: r.details ? JSON.parse(r.details) : null }));
    },

    getOverride(zoneId: string): ZoneOverride | undefined {
      const row = db.prepare('SELECT override FROM irrigation_overrides WHERE zone_id = ?').get(zoneId) as { override: string } | undefined;
      if (!row) return undefined;
      const parsed = ZoneOverride.safeParse(JSON.parse(row.override));
      return parsed.success ? parsed.data : undefined;
    },
    setOverride(zoneId: string, override: ZoneOverride, by: string, at: number): void {
      db.prepare('INSERT INTO irrigation_overrides (zone_id, override, updated_by, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(zone_id) DO UPDATE SET override = excluded.override, updated_by = excluded.updated_by, updated_at = excluded.updated_at')
        .run(zoneId, JSON.stringify(override), by, at);
    },
  };
}
