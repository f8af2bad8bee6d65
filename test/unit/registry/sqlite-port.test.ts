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

  it('refuses a call on the port itself from inside its transaction at once, naming it, rather than hang; after the transaction the port works', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (v INTEGER)');
    const sql = createSqliteSql(db);
    const within = (call: () => Promise<unknown>) => sql.transaction(async (tx) => {
      await tx.run('INSERT INTO t VALUES (1)');
      await tx.one('SELECT 1');
      await call();
    });
    // Before the guard, each of these never settled (the call queued behind its own transaction).
    const settled = (p: Promise<unknown>) => Promise.race([p.then(() => 'resolved', (e: unknown) => e), new Promise((r) => setTimeout(() => r('hung'), 1_000))]);
    expect(await settled(within(() => sql.run('INSERT INTO t VALUES (2)')))).toMatchObject({ code: 'sql_reentrance', message: expect.stringContaining('run(INSERT INTO t VALUES (2))') });
    expect(await settled(within(() => sql.all('SELECT v FROM t')))).toMatchObject({ code: 'sql_reentrance' });
    expect(await settled(within(() => sql.transaction(async () => undefined)))).toMatchObject({ code: 'sql_reentrance', message: expect.stringContaining('transaction') });
    expect(db.prepare('SELECT v FROM t').all()).toEqual([]); // each transaction rolled back whole
    // Work a transaction started that runs after it ended uses the port as anyone may.
    let later: Promise<unknown> | undefined;
    await sql.transaction(async (tx) => { await tx.run('INSERT INTO t VALUES (3)'); later = new Promise((r) => setTimeout(r, 10)).then(() => sql.run('INSERT INTO t VALUES (4)')); });
    await later;
    expect(await sql.all<{ v: number }>('SELECT v FROM t ORDER BY rowid')).toEqual([{ v: 3 }, { v: 4 }]);
    db.close();
  });

  it('a re-entrant call its async stack does not show (reached through a timer) is refused once it waited behind the open transaction; a call from outside waits and runs', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (v INTEGER)');
    const sql = createSqliteSql(db, { reentranceWaitMs: 200 });
    let outside: Promise<unknown> | undefined;
    const started = Date.now();
    const stuck = sql.transaction(async (tx) => {
      await tx.run('INSERT INTO t VALUES (1)');
      await new Promise((resolve, reject) => setTimeout(() => { sql.run('INSERT INTO t VALUES (3)').then(resolve, reject); }, 0));
    });
    // Another caller's, while the transaction is open: queued, not refused at once.
    setTimeout(() => { outside = sql.run('INSERT INTO t VALUES (2)'); }, 20);
    await new Promise((r) => setTimeout(r, 50));
    expect(outside).toBeDefined();
    await expect(stuck).rejects.toMatchObject({ code: 'sql_reentrance' });
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(outside).rejects.toMatchObject({ code: 'sql_reentrance' }); // it waited behind the stuck transaction too: refused, not run late
    await sql.run('INSERT INTO t VALUES (4)');
    expect(await sql.all<{ v: number }>('SELECT v FROM t ORDER BY rowid')).toEqual([{ v: 4 }]);
    db.close();
  });

  it('a call from outside made while a transaction is open runs after it, in order', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (v INTEGER)');
    const sql = createSqliteSql(db, { reentranceWaitMs: 200 });
    let outside: Promise<unknown> | undefined;
    const tx = sql.transaction(async (t) => { await t.run('INSERT INTO t VALUES (1)'); await new Promise((r) => setTimeout(r, 20)); await t.run('INSERT INTO t VALUES (2)'); });
    setTimeout(() => { outside = sql.run('INSERT INTO t VALUES (3)'); }, 5);
    await tx;
    await new Promise((r) => setTimeout(r, 10));
    await outside;
    expect(await sql.all<{ v: number }>('SELECT v FROM t ORDER BY rowid')).toEqual([{ v: 1 }, { v: 2 }, { v: 3 }]);
    db.close();
  });
});
