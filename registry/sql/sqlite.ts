import type Database from 'better-sqlite3';
import type { Db } from '../db.ts';
import type { Sql, SqlTx, SqlValue } from './port.ts';

type Statement = Database.Statement<unknown[]>;

/**
 * The SQL port over the app's one better-sqlite3 connection. Each call runs synchronously
 * and answers a settled promise, so the default mode behaves as it did before the port.
 *
 * One connection holds one transaction: a transaction here takes the connection from BEGIN
 * IMMEDIATE to COMMIT, and this port's other calls (and other transactions) queue behind it
 * in call order rather than land inside it — a plain write queued before a transaction
 * that then fails is not rolled back with it. Code that uses `db` directly is not held back: a statement of
 * its own that runs while a port transaction awaits a step joins that transaction (the
 * stores' transactions do no I/O besides SQL, so such a window is a few microtasks long).
 */
export function createSqliteSql(db: Db): Sql {
  const statements = new Map<string, Statement>();
  const prepare = (sql: string): Statement => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare<unknown[]>(sql);
      statements.set(sql, s);
    }
    return s;
  };
  const direct: SqlTx = {
    dialect: 'sqlite',
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => prepare(sql).all(...(params as SqlValue[])) as T[],
    one: async <T>(sql: string, params: readonly SqlValue[] = []) => prepare(sql).get(...(params as SqlValue[])) as T | undefined,
    run: async (sql: string, params: readonly SqlValue[] = []) => ({ changes: prepare(sql).run(...(params as SqlValue[])).changes }),
    lock: async () => undefined,
  };

  // The tail of the queue: transactions and plain calls run one after another, in call order.
  let busy: Promise<unknown> = Promise.resolve();
  const queued = <T>(fn: () => Promise<T> | T): Promise<T> => {
    const mine = busy.catch(() => undefined).then(fn);
    busy = mine;
    return mine;
  };

  async function transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(direct);
        db.exec('COMMIT');
        return result;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    };
    return queued(run);
  }

  return {
    dialect: 'sqlite',
    all: <T>(sql: string, params?: readonly SqlValue[]) => queued(() => direct.all<T>(sql, params)),
    one: <T>(sql: string, params?: readonly SqlValue[]) => queued(() => direct.one<T>(sql, params)),
    run: (sql: string, params?: readonly SqlValue[]) => queued(() => direct.run(sql, params)),
    transaction,
    // The connection is the app's (registry/db.ts), closed by its owner.
    close: async () => undefined,
  };
}

const ports = new WeakMap<Db, Sql>();

/**
 * The one port of a connection: every service over the same SQLite connection must share it,
 * since its transactions queue on it (two ports would BEGIN inside each other).
 */
export function sqliteSqlOf(db: Db): Sql {
  let sql = ports.get(db);
  if (!sql) {
    sql = createSqliteSql(db);
    ports.set(db, sql);
  }
  return sql;
}
