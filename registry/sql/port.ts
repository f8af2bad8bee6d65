/**
 * The SQL port the shared-state stores are written against once for both engines: SQLite
 * (the one-process default, better-sqlite3) and PostgreSQL (the clustered mode, node-postgres).
 *
 * What a store writes, both engines accept: `?` placeholders (the PostgreSQL adapter numbers
 * them), `INSERT … RETURNING id`, `ON CONFLICT … DO NOTHING`, double-quoted aliases for
 * camelCase names (PostgreSQL folds unquoted ones to lower case), `1 = 0` rather than `0` for
 * false. Integers come back as numbers from both (epoch ms fit in a double).
 */
export type SqlValue = string | number | null;

export interface Sql {
  readonly dialect: 'sqlite' | 'postgres';
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  one<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /**
   * `fn` inside one write transaction; the handle it gets is bound to that transaction. SQLite:
   * BEGIN IMMEDIATE (the file's writers queue; one connection, so this process's transactions
   * run one at a time). PostgreSQL: READ COMMITTED on a connection of the pool, with `lock` for
   * what must not interleave across nodes, retried whole (a fresh `fn` call) on a serialization
   * failure, a deadlock or a unique violation, so a loser re-reads the winner's row.
   */
  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface SqlTx extends Omit<Sql, 'transaction' | 'close'> {
  /**
   * Hold `key` until the transaction ends: two transactions locking the same key run one after
   * the other, on any node (PostgreSQL: pg_advisory_xact_lock). A no-op on SQLite, where a write
   * transaction already excludes every other writer.
   */
  lock(key: string): Promise<void>;
}

/** Shared-state tables that one store writes; kept here so both adapters agree on the name. */
export type SqlEngine = Sql['dialect'];

/** What a store needs: queries, inside a transaction or not. */
export type SqlQueries = Pick<Sql, 'dialect' | 'all' | 'one' | 'run'>;
