import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from './port.ts';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'pg-migrations');

/**
 * Bring a PostgreSQL database's shared-state schema up to date: the numbered .sql files of
 * registry/pg-migrations not yet in schema_migrations, in order, all in one transaction that
 * holds an advisory lock, so two nodes starting together apply each file once.
 * Returns the versions applied.
 */
export async function migratePostgres(sql: Sql, dir: string = MIGRATIONS_DIR): Promise<number[]> {
  const files = readdirSync(dir).filter((f) => /^\d{3}-.+\.sql$/.test(f)).sort();
  return sql.transaction(async (tx) => {
    await tx.lock('gs:schema_migrations');
    await tx.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const applied = new Set((await tx.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    const done: number[] = [];
    for (const file of files) {
      const version = Number(file.slice(0, 3));
      if (applied.has(version)) continue;
      await tx.run(readFileSync(join(dir, file), 'utf8'));
      await tx.run('INSERT INTO schema_migrations (version, name) VALUES (?, ?)', [version, file]);
      done.push(version);
    }
    return done;
  });
}
