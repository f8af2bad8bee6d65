import type Database from 'better-sqlite3';
import type { Db } from '../db.ts';
import { REPLICATED_TABLES, keyText, type AppliedChanges, type RemoteRow, type RowImage, type RowKey, type RowValue } from './tables.ts';
import { createForeignKeyCheck, type AppliedKeys, type DanglingReference } from './foreign-keys.ts';


/** What one apply did: the keys it changed, the rows SQLite refused, the references it found dangling, the tables whose check failed. */
export interface ApplyResult {
  changes: AppliedChanges;
  refused: Array<{ key: RowKey; error: Error }>;
  dangling: DanglingReference[];
  unchecked: Array<{ table: string; error: Error }>;
}

/**
 * Apply each row, then again those refused while one of them goes in: a row refused for a
 * unique value another row of the batch releases later in seq order (registry_rows keeps each
 * key's latest seq, not the order of the changes) goes in after it. The rows still refused.
 */
function applyInPasses(rows: readonly RemoteRow[], applyOne: (r: RemoteRow) => void): Array<{ row: RemoteRow; error: Error }> {
  let waiting = rows;
  let refused: Array<{ row: RemoteRow; error: Error }> = [];
  for (let progress = true; progress && waiting.length > 0;) {
    refused = [];
    for (const r of waiting) {
      try {
        applyOne(r);
      } catch (error) {
        refused.push({ row: r, error: error as Error });
      }
    }
    progress = refused.length < waiting.length;
    waiting = refused.map((f) => f.row);
  }
  return refused;
}

/**
 * Run `fn` (synchronous SQLite writes) with the capture switch off and put it back as it was:
 * what it changes is never shipped. For the apply of PostgreSQL's rows (not shipped back), and
 * for a legacy secret hash upgraded at a login (devices.ts, service-accounts.ts), which stays
 * this node's own: the keyed hash it writes checks the same secret on every node (one
 * credential key), each node upgrades at its own next login, and a shipped upgrade would carry
 * its whole row — overwriting a disable or rotation another node made in the second before it
 * shipped (last shipped wins). Negating the switch (1 → -1 → 1, 0 stays 0)
 * needs no read of it.
 */
export function withoutCapture<T>(db: Db, fn: () => T): T {
  const flip = db.prepare('UPDATE registry_capture SET enabled = -enabled WHERE id = 1');
  return db.transaction(() => {
    flip.run();
    try { return fn(); } finally { flip.run(); }
  })();
}

/** Writes one of PostgreSQL's rows here: its image upserted in place, or its key deleted (`row` null). */
function createRowWriter(db: Db) {
  const columns = new Map<string, Set<string>>();
  for (const table of Object.keys(REPLICATED_TABLES)) {
    columns.set(table, new Set((db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name)));
  }
  const where = (table: string) => REPLICATED_TABLES[table]!.map((c) => `${c} = ?`).join(' AND ');
  const deleteRow = new Map(Object.keys(REPLICATED_TABLES).map((t) => [t, db.prepare(`DELETE FROM ${t} WHERE ${where(t)}`)]));
  const upserts = new Map<string, Database.Statement<RowValue[]>>();

  /** ON CONFLICT DO UPDATE, never INSERT OR REPLACE: a replace deletes first, and a delete cascades. */
  const upsertOf = (table: string, cols: string[]) => {
    const id = `${table}:${cols.join(',')}`;
    let stmt = upserts.get(id);
    if (!stmt) {
      const keys = REPLICATED_TABLES[table]!;
      const set = cols.filter((c) => !keys.includes(c)).map((c) => `${c} = excluded.${c}`);
      stmt = db.prepare<RowValue[]>(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})
        ON CONFLICT (${keys.join(', ')}) ${set.length ? `DO UPDATE SET ${set.join(', ')}` : 'DO NOTHING'}`);
      upserts.set(id, stmt);
    }
    return stmt;
  };
  return {
    has: (table: string): boolean => columns.has(table),
    write(r: RemoteRow): void {
      if (r.row === null) deleteRow.get(r.tbl)!.run(...(JSON.parse(r.pk) as RowValue[]));
      else {
        const cols = columns.get(r.tbl)!;
        const present = Object.keys(r.row).filter((c) => cols.has(c));
        upsertOf(r.tbl, present).run(...present.map((c) => r.row![c] ?? null));
      }
    },
  };
}

/**
 * This node's SQLite as a replica of the registry: the capture switch the migration-130
 * triggers read, the keys they recorded (the outbound), the current image of a row, and the
 * apply of PostgreSQL's rows. Everything is synchronous, on the app's one connection.
 */
export function createLocalReplica(db: Db) {
  const where = (table: string) => REPLICATED_TABLES[table]!.map((c) => `${c} = ?`).join(' AND ');
  const selectRow = new Map(Object.keys(REPLICATED_TABLES).map((t) => [t, db.prepare(`SELECT * FROM ${t} WHERE ${where(t)}`)]));
  const writer = createRowWriter(db);
  const setCapture = db.prepare('UPDATE registry_capture SET enabled = ? WHERE id = 1');
  const getState = db.prepare('SELECT value FROM registry_replica WHERE key = ?');
  const putState = db.prepare('INSERT INTO registry_replica (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  const checkForeignKeys = createForeignKeyCheck(db);
  const keyOf = (table: string, row: RowImage) => keyText(REPLICATED_TABLES[table]!.map((c) => row[c]));

  /** The keys changed since the last ship (distinct), and the outbound's highest id they cover. */
  const pending = (): { upTo: number; keys: RowKey[] } => {
    const upTo = (db.prepare('SELECT max(id) AS id FROM registry_outbound').get() as { id: number | null }).id ?? 0;
    if (upTo === 0) return { upTo, keys: [] };
    const rows = db.prepare('SELECT DISTINCT tbl, pk FROM registry_outbound WHERE id <= ?').all(upTo) as RowKey[];
    const seen = new Set<string>();
    const keys: RowKey[] = [];
    for (const r of rows) {
      const pk = keyText(JSON.parse(r.pk) as unknown[]);
      if (seen.has(`${r.tbl}\u0000${pk}`) || !REPLICATED_TABLES[r.tbl]) continue;
      seen.add(`${r.tbl}\u0000${pk}`);
      keys.push({ tbl: r.tbl, pk });
    }
    return { upTo, keys };
  };

  return {
    /** Whether the triggers record changes (kept in the file: a CLI import on a replicated data directory is shipped at the next start). */
    capture(on: boolean): void { setCapture.run(on ? 1 : 0); },
    lastSeq(): number | undefined {
      const row = getState.get('last_seq') as { value: string } | undefined;
      return row ? Number(row.value) : undefined;
    },
    pending,
    /** The row as it is now; null when it no longer exists (shipped as a delete). */
    image(key: RowKey): RowImage | null {
      return (selectRow.get(key.tbl)!.get(...(JSON.parse(key.pk) as RowValue[])) as RowImage | undefined) ?? null;
    },
    shipped(upTo: number): void { db.prepare('DELETE FROM registry_outbound WHERE id <= ?').run(upTo); },
    /** Queue keys for shipping (a node's rows PostgreSQL lacks, at its first sync). */
    enqueue(keys: readonly RowKey[]): void {
      const insert = db.prepare('INSERT INTO registry_outbound (tbl, pk) VALUES (?, ?)');
      db.transaction(() => { for (const k of keys) insert.run(k.tbl, k.pk); })();
    },
    /** Every row key of the replicated tables. */
    allKeys(): RowKey[] {
      const keys: RowKey[] = [];
      for (const [table, cols] of Object.entries(REPLICATED_TABLES)) {
        for (const row of db.prepare(`SELECT ${cols.join(', ')} FROM ${table}`).raw().all() as unknown[][]) keys.push({ tbl: table, pk: keyText(row) });
      }
      return keys;
    },

    /**
     * Apply PostgreSQL's rows in seq order, in one transaction, with the capture off (they are
     * not shipped back) and foreign keys unchecked: rows come as their latest image, so a
     * child may arrive before the newer image of its parent. A key with a change of this
     * node's not shipped yet is skipped (that change is newer and ships next: the last shipped
     * wins). A row SQLite refuses (a unique index) is tried again after the others; one still
     * refused is counted in `refused` and left (two rows that swapped a unique value refuse
     * each other). Then, in the same transaction with the capture on, the references the rows
     * left dangling are checked and handled as one node's ON DELETE rule would (`dangling`,
     * foreign-keys.ts); a table whose check fails is undone alone (`unchecked`), the rows stay
     * applied: replication never stops on it. Must run outside any transaction.
     */
    apply(rows: readonly RemoteRow[], seqTo: number): ApplyResult {
      const changes: AppliedChanges = new Map();
      const applied: AppliedKeys = { upserted: new Map(), deleted: new Map() };
      const unshipped = new Set(pending().keys.map((k) => `${k.tbl}\u0000${k.pk}`));
      const applyOne = (r: RemoteRow): void => {
        writer.write(r);
        const list = changes.get(r.tbl) ?? [];
        list.push(r.pk);
        changes.set(r.tbl, list);
        const by = r.row === null ? applied.deleted : applied.upserted;
        by.set(r.tbl, (by.get(r.tbl) ?? new Set()).add(r.pk));
      };
      const waiting = rows.filter((r) => writer.has(r.tbl) && !unshipped.has(`${r.tbl}\u0000${r.pk}`) && (r.row === null || keyOf(r.tbl, r.row) === r.pk));
      let refused: Array<{ row: RemoteRow; error: Error }> = [];
      let dangling: DanglingReference[] = [];
      let unchecked: Array<{ table: string; error: Error }> = [];
      db.pragma('foreign_keys = OFF');
      try {
        db.transaction(() => {
          withoutCapture(db, () => {
            refused = applyInPasses(waiting, applyOne);
            putState.run('last_seq', String(seqTo));
          });
          ({ found: dangling, failed: unchecked } = checkForeignKeys(applied));
        })();
      } finally {
        db.pragma('foreign_keys = ON');
      }
      for (const d of dangling) {
        // What the check deleted or cleared changed here too: the caches re-read it.
        const list = changes.get(d.table) ?? [];
        if (d.outcome !== 'left' && REPLICATED_TABLES[d.table] && !list.includes(d.key)) changes.set(d.table, [...list, d.key]);
      }
      return { changes, refused: refused.map(({ row, error }) => ({ key: { tbl: row.tbl, pk: row.pk }, error })), dangling, unchecked };
    },
    inTransaction: (): boolean => db.inTransaction,
  };
}

export type LocalReplica = ReturnType<typeof createLocalReplica>;
