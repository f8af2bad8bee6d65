import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDb } from '../../../registry/db.ts';

describe('registry migrations', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'gs-mig-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const tables = (db: Database.Database) => (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);

  it('runs a lower-numbered migration that arrives after a higher one (branches merge in any order)', () => {
    const db = new Database(':memory:');
    writeFileSync(join(dir, '001-a.sql'), 'CREATE TABLE a (id INTEGER);');
    writeFileSync(join(dir, '040-c.sql'), 'CREATE TABLE c (id INTEGER);');
    migrate(db, dir);
    writeFileSync(join(dir, '004-b.sql'), 'CREATE TABLE b (id INTEGER);');
    migrate(db, dir);
    migrate(db, dir); // and once applied, never again
    expect(tables(db)).toEqual(['a', 'b', 'c', 'schema_migrations']);
    expect(db.pragma('user_version', { simple: true })).toBe(40);
  });

  it('adopts a database that only knew user_version without re-running what it applied', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE a (id INTEGER);');
    db.pragma('user_version = 1');
    writeFileSync(join(dir, '001-a.sql'), 'CREATE TABLE a (id INTEGER);');
    writeFileSync(join(dir, '004-b.sql'), 'CREATE TABLE b (id INTEGER);');
    migrate(db, dir);
    expect(tables(db)).toEqual(['a', 'b', 'schema_migrations']);
  });

  it('brings a fresh registry up to the city model', () => {
    const db = openDb(join(dir, 'g.db'));
    expect(tables(db)).toEqual(expect.arrayContaining(['sub_districts', 'teams', 'team_communities', 'technicians']));
    const columns = (db.prepare('PRAGMA table_info(devices)').all() as Array<{ name: string }>).map((c) => c.name);
    expect(columns).toEqual(expect.arrayContaining(['gateway_id', 'retired_at', 'lorawan_application']));
    db.close();
  });
});
