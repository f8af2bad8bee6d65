import { afterAll, beforeAll } from 'vitest';
import { openDb, type Db } from '../../registry/db.ts';
import type { Sql, SqlEngine } from '../../registry/sql/port.ts';
import { sqliteSqlOf } from '../../registry/sql/sqlite.ts';
import { createPostgresSql } from '../../registry/sql/postgres.ts';
import { migratePostgres } from '../../registry/sql/pg-migrate.ts';
import { startTestPostgres, type TestPostgres } from './postgres.ts';

/** Both engines the shared-state stores run on: the SQLite default and the clustered mode's PostgreSQL. */
export const SQL_ENGINES: readonly SqlEngine[] = ['sqlite', 'postgres'];

export interface SqlDatabase {
  /** The port the shared state is on. */
  sql: Sql;
  /** A SQLite connection for what stays per node (on SQLite: the one `sql` is over). */
  db: Db;
  /** PostgreSQL: the database's URL, for a second node's pool. */
  url?: string;
}

/**
 * Empty databases of one engine for a `describe.each(SQL_ENGINES)` block: SQLite in memory, or
 * a new database on a throwaway PostgreSQL started for the block (test/helpers/postgres.ts),
 * migrated. Everything is closed after the block.
 */
export function useSqlDatabases(engine: SqlEngine): { database(): Promise<SqlDatabase>; pool(url: string): Promise<Sql> } {
  let server: TestPostgres | undefined;
  const open: Sql[] = [];
  const dbs: Db[] = [];
  if (engine === 'postgres') beforeAll(async () => { server = await startTestPostgres(); });
  afterAll(async () => {
    for (const sql of open.splice(0)) await sql.close();
    for (const db of dbs.splice(0)) db.close();
    await server?.stop();
  });
  const pool = async (url: string): Promise<Sql> => {
    const sql = createPostgresSql({ url });
    open.push(sql);
    return sql;
  };
  return {
    pool,
    async database() {
      const db = openDb(':memory:');
      dbs.push(db);
      if (engine === 'sqlite') return { sql: sqliteSqlOf(db), db };
      const url = await server!.createDatabase();
      const sql = await pool(url);
      await migratePostgres(sql);
      return { sql, db, url };
    },
  };
}
