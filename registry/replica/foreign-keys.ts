import type { Db } from '../db.ts';
import { REPLICATED_TABLES, keyText, type RowValue } from './tables.ts';

/**
 * A row that pointed at a missing row after an apply, and what became of it: `deleted` or
 * `set_null` as its foreign key's ON DELETE rule does on one node, `left` as it came when the
 * rule is to refuse (NO ACTION, RESTRICT; SET DEFAULT, which no table uses, too). `key` is
 * the row's key text (its rowid's for a table that is not replicated), `parentKey` the text of
 * the values it points with.
 */
export interface DanglingReference {
  table: string; key: string; parent: string; parentKey: string;
  outcome: 'deleted' | 'set_null' | 'left';
}

/** What an apply wrote, by table: the key texts it upserted, and those it deleted. */
export interface AppliedKeys { upserted: Map<string, Set<string>>; deleted: Map<string, Set<string>> }

interface ForeignKey { parent: string; from: string[]; onDelete: string }
interface Violation { table: string; rowid: number | null; parent: string; fkid: number }

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Every foreign key of the file, by child table and id (foreign_key_check's fkid), and the child tables of each parent. */
function readForeignKeys(db: Db) {
  const byTable = new Map<string, Map<number, ForeignKey>>();
  const children = new Map<string, Set<string>>();
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[];
  for (const table of tables) {
    const rows = db.prepare(`PRAGMA foreign_key_list(${quote(table)})`).all() as Array<{ id: number; seq: number; table: string; from: string; on_delete: string }>;
    const fks = new Map<number, ForeignKey>();
    for (const r of [...rows].sort((x, y) => x.seq - y.seq)) {
      const fk = fks.get(r.id) ?? { parent: r.table, from: [], onDelete: r.on_delete.toUpperCase() };
      fk.from.push(r.from);
      fks.set(r.id, fk);
      children.set(r.table, (children.get(r.table) ?? new Set()).add(table));
    }
    if (fks.size > 0) byTable.set(table, fks);
  }
  return { byTable, children };
}

/**
 * The check after an apply (local.ts). The apply runs with foreign keys unchecked, and two
 * nodes can each accept a write the other's makes dangle: a user deleted on one while the
 * other started a session for it, a zone pruned on one while the other added a device to it.
 * One node would have refused one of the two or applied the delete's rule; the replicas
 * accepted both. So after each apply, `PRAGMA foreign_key_check` on the tables it could have
 * made dangle (those it upserted into, and the child tables of those it deleted from), and
 * each dangling row handled as its rule does on one node, so every node ends with what one
 * node would hold:
 *
 * - CASCADE: the row is deleted, SET NULL: its reference cleared (a NOT NULL column refuses:
 *   left). The caller runs this with the capture on, so the change is shipped as this node's:
 *   PostgreSQL's image of the row becomes it, for a late joiner too. Each node that sees the
 *   dangling row does the same; the second ship of one delete is a no-op everywhere.
 * - NO ACTION (every reference among the places, teams and devices): no rule says which write
 *   should lose, and deleting a device an operator has just been given credentials for is
 *   worse than a device whose zone is gone (its readings carry no place, as for a device
 *   registered without one). The row is left as it came, the same on every node (PostgreSQL's
 *   image), and reported by the apply that brought it or its parent's delete, not again by
 *   later applies that touch neither. It stays writable by a write that leaves its reference
 *   columns out (disable, rotate a secret): SQLite checks a reference whenever a write sets its
 *   columns, even to the value they hold, so a move must name a place that exists.
 *
 * Whole-table checks, but only of those tables: a login elsewhere checks the sessions, a
 * rename of a place checks nothing below it (an upsert never changes a key; a key's change is
 * shipped as a delete and an insert).
 */
export function createForeignKeyCheck(db: Db) {
  const { byTable, children } = readForeignKeys(db);
  const keyColumns = (table: string): readonly string[] => REPLICATED_TABLES[table] ?? [];
  const selects = new Map<string, ReturnType<Db['prepare']>>();
  const rowOf = (table: string, fk: ForeignKey, rowid: number): Record<string, RowValue> | undefined => {
    const cols = [...new Set([...keyColumns(table), ...fk.from])];
    const sql = `SELECT ${cols.map(quote).join(', ')} FROM ${quote(table)} WHERE rowid = ?`;
    let stmt = selects.get(sql);
    if (!stmt) selects.set(sql, (stmt = db.prepare(sql)));
    return stmt.get(rowid) as Record<string, RowValue> | undefined;
  };

  /** What the foreign key's rule does to one dangling row. */
  const settle = (table: string, fk: ForeignKey, rowid: number): DanglingReference['outcome'] => {
    if (fk.onDelete === 'CASCADE') {
      db.prepare(`DELETE FROM ${quote(table)} WHERE rowid = ?`).run(rowid);
      return 'deleted';
    }
    if (fk.onDelete !== 'SET NULL') return 'left';
    try {
      db.prepare(`UPDATE ${quote(table)} SET ${fk.from.map((c) => `${quote(c)} = NULL`).join(', ')} WHERE rowid = ?`).run(rowid);
      return 'set_null';
    } catch (error) {
      if ((error as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) return 'left'; // one node's delete would have failed as well
      throw error;
    }
  };

  /** One table's dangling rows, each handled by its rule; `seen` keeps a row reported once per apply. */
  const checkTable = (table: string, applied: AppliedKeys, seen: Set<string>): DanglingReference[] => {
    const found: DanglingReference[] = [];
    const touched = (t: string, key: string, by: Map<string, Set<string>>) => by.get(t)?.has(key) ?? false;
    for (const v of db.pragma(`foreign_key_check(${quote(table)})`) as Violation[]) {
      const fk = byTable.get(table)?.get(v.fkid);
      const row = fk && v.rowid !== null ? rowOf(table, fk, v.rowid) : undefined;
      const id = `${table}\u0000${v.rowid}\u0000${v.fkid}`;
      if (!fk || !row || seen.has(id)) continue; // gone already (its other reference), or reported
      seen.add(id);
      const key = keyText(REPLICATED_TABLES[table] ? keyColumns(table).map((c) => row[c]) : [v.rowid]);
      const parentKey = keyText(fk.from.map((c) => row[c]));
      const outcome = settle(table, fk, v.rowid!);
      // Left dangling by an earlier apply, touched by neither side now: reported then.
      if (outcome === 'left' && !touched(table, key, applied.upserted) && !touched(fk.parent, parentKey, applied.deleted)) continue;
      found.push({ table, key, parent: fk.parent, parentKey, outcome });
    }
    return found;
  };

  /**
   * Check after an apply, inside its transaction (foreign keys off): each dangling row handled
   * by its rule; what was found, and the tables whose check failed (each in a savepoint of its
   * own, so a failure takes back only that table's part and the apply still commits). A
   * CASCADE's delete is checked on in the deleted row's own child tables, as SQLite's cascade
   * goes on down.
   */
  return function check(applied: AppliedKeys): { found: DanglingReference[]; failed: Array<{ table: string; error: Error }> } {
    const found: DanglingReference[] = [];
    const failed: Array<{ table: string; error: Error }> = [];
    const seen = new Set<string>();
    const childrenOf = (tables: Iterable<string>) => [...tables].flatMap((t) => [...(children.get(t) ?? [])]);
    let scope = new Set([...applied.upserted.keys(), ...childrenOf(applied.deleted.keys())]);
    while (scope.size > 0) {
      const deletedFrom = new Set<string>();
      for (const table of [...scope].filter((t) => byTable.has(t))) {
        try {
          const here = db.transaction(() => checkTable(table, applied, seen))();
          found.push(...here);
          if (here.some((d) => d.outcome === 'deleted')) deletedFrom.add(table);
        } catch (error) {
          failed.push({ table, error: error as Error });
        }
      }
      scope = new Set(childrenOf(deletedFrom));
    }
    return { found, failed };
  };
}
