import type Database from 'better-sqlite3';
import { CodedError } from '../../lib/errors.ts';
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
 *
 * A call on this port itself (not on the transaction's handle) from inside one of its
 * transactions would queue behind that transaction, which waits for the call: a hang with no
 * error. It is refused instead (`sql_reentrance`, naming the call): at once when the call's
 * async stack shows the transaction's body (V8's async stack traces, looked at only when a call
 * comes while a transaction is open), and otherwise — a call reached through a `.then` that
 * the async stack loses — after REENTRANCE_WAIT_MS queued behind a transaction still open,
 * far past any this port runs (no I/O but SQL inside). AsyncLocalStorage would tell the
 * context exactly, but on Node 20 it turns on promise hooks for the whole process (measured:
 * an await loop 2.5–3.7× slower), the ingest's hot path included.
 */
export function createSqliteSql(db: Db, options: { reentranceWaitMs?: number } = {}): Sql {
  const reentranceWaitMs = options.reentranceWaitMs ?? REENTRANCE_WAIT_MS;
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

  // Calls that came while a transaction of this port was open, not started yet: failed by the watchdog if it stays open.
  let open: { waiting: Array<() => void> } | undefined;

  // The tail of the queue: transactions and plain calls run one after another, in call order.
  let busy: Promise<unknown> = Promise.resolve();
  const queued = <T>(fn: () => Promise<T> | T, call: () => string): Promise<T> => {
    if (!open) {
      const mine = busy.catch(() => undefined).then(fn);
      busy = mine;
      return mine;
    }
    if (isInsideTransaction()) return Promise.reject(reentrance(call()));
    // Behind an open transaction: the watchdog may refuse it, and then it does not run late.
    const { waiting } = open;
    let failed = false;
    const refused = new Promise<never>((_resolve, reject) => { waiting.push(() => { failed = true; reject(reentrance(call())); }); });
    refused.catch(() => undefined);
    const mine = busy.catch(() => undefined).then(() => {
      if (failed) throw reentrance(call());
      return fn();
    });
    busy = mine;
    return Promise.race([mine, refused]);
  };

  async function transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      db.exec('BEGIN IMMEDIATE');
      const frame = { waiting: [] as Array<() => void> };
      open = frame;
      const watchdog = setTimeout(() => { for (const fail of frame.waiting.splice(0)) fail(); }, reentranceWaitMs);
      watchdog.unref();
      try {
        const result = await sqlitePortTransaction(fn, direct);
        db.exec('COMMIT');
        return result;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      } finally {
        clearTimeout(watchdog);
        if (open === frame) open = undefined;
      }
    };
    return queued(run, () => 'transaction');
  }

  const shown = (sql: string) => sql.replace(/\s+/g, ' ').slice(0, 80);
  return {
    dialect: 'sqlite',
    all: <T>(sql: string, params?: readonly SqlValue[]) => queued(() => direct.all<T>(sql, params), () => `all(${shown(sql)})`),
    one: <T>(sql: string, params?: readonly SqlValue[]) => queued(() => direct.one<T>(sql, params), () => `one(${shown(sql)})`),
    run: (sql: string, params?: readonly SqlValue[]) => queued(() => direct.run(sql, params), () => `run(${shown(sql)})`),
    transaction,
    // The connection is the app's (registry/db.ts), closed by its owner.
    close: async () => undefined,
  };
}

/** How long a call may wait behind a transaction still open before it is taken for a re-entrant one (see createSqliteSql). */
export const REENTRANCE_WAIT_MS = 5_000;

/**
 * A transaction's body, under a name its calls' async stacks show (`return await` keeps this
 * frame in the chain after the body's first await).
 */
async function sqlitePortTransaction<T>(fn: (tx: SqlTx) => Promise<T>, tx: SqlTx): Promise<T> {
  return await fn(tx);
}

/**
 * Whether the current (async) stack runs inside a transaction's body. Only asked while one of
 * the port's transactions is open; a body of another port's transaction open at the same
 * instant would count too (one port per connection, sqliteSqlOf, makes that rare).
 */
function isInsideTransaction(): boolean {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 200;
  try {
    return /\bat (?:async )?sqlitePortTransaction \(/.test(new Error().stack ?? '');
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** A root-port call from inside a transaction of the same port (it would wait for itself). */
const reentrance = (call: string): CodedError => new CodedError('sql_reentrance',
  `SQLite port: ${call} was called on the port itself inside one of its transactions; it would wait for that transaction, which waits for it. Use the transaction's handle (the \`tx\` its function receives), or make the call after the transaction`);

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
