import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteSql } from '../../../registry/sql/sqlite.ts';

describe('the SQL port over one SQLite connection', () => {
  it('runs a plain write asked before a transaction outside it: the transaction failing does not roll it back', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (v INTEGER)');
    const sql = createSqliteSql(db);
    const plain = sql.run('INSERT INTO t VALUES (1)');
    const failing = sql.transaction(async (tx) => {
      await tx.run('INSERT INTO t VALUES (2)');
      await tx.one('SELECT 1');
      throw new Error('refused');
    });
    await plain;
    await expect(failing).rejects.toThrow('refused');
    expect(db.prepare('SELECT v FROM t').all()).toEqual([{ v: 1 }]);
    db.close();
  });

  it('answers plain calls in the order they were asked, around a transaction', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (v INTEGER)');
    const sql = createSqliteSql(db);
    const calls = [
      sql.run('INSERT INTO t VALUES (1)'),
      sql.transaction(async (tx) => { await tx.run('INSERT INTO t VALUES (2)'); await tx.one('SELECT 1'); await tx.run('INSERT INTO t VALUES (3)'); }),
      sql.run('INSERT INTO t VALUES (4)'),
    ];
    await Promise.all(calls);
    expect(await sql.all<{ v: number }>('SELECT v FROM t ORDER BY rowid')).toEqual([{ v: 1 }, { v: 2 }, { v: 3 }, { v: 4 }]);
    db.close();
  });
});
