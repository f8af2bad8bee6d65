import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export type Db = Database.Database;

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/**
 * Open (creating if needed) the SQLite file and bring its schema up to date.
 * Migrations are the numbered .sql files beside this module, applied in order inside
 * one transaction each; PRAGMA user_version records the last one applied.
 */
export function openDb(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

/**
 * Apply every migration file not yet applied, in number order. Applied versions are
 * recorded in schema_migrations, not only as a high-water mark: feature branches own
 * number ranges and merge in any order, so 004 may land after 040 and must still run.
 * PRAGMA user_version keeps the highest applied version for tools that read it.
 */
export function migrate(db: Db, dir: string = MIGRATIONS_DIR): void {
  const files = readdirSync(dir).filter((f) => /^\d{3}-.+\.sql$/.test(f)).sort();
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)');
  const record = db.prepare('INSERT INTO schema_migrations (version, name) VALUES (?, ?)');
  let applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
  const highWater = db.pragma('user_version', { simple: true }) as number;
  if (applied.size === 0 && highWater > 0) {
    // A database from before schema_migrations: user_version is all it knows.
    db.transaction(() => {
      for (const file of files) if (Number(file.slice(0, 3)) <= highWater) record.run(Number(file.slice(0, 3)), file);
    })();
    applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
  }
  for (const file of files) {
    const version = Number(file.slice(0, 3));
    if (applied.has(version)) continue;
    const sql = readFileSync(join(dir, file), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      record.run(version, file);
      db.pragma(`user_version = ${Math.max(version, db.pragma('user_version', { simple: true }) as number)}`);
    })();
  }
}
