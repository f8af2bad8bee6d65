import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../registry/db.ts';
import { createLocalReplica } from '../../../registry/replica/local.ts';
import { createRegistryReplicator, type RegistryReplicator } from '../../../registry/replica/replicator.ts';
import { createPostgresSql } from '../../../registry/sql/postgres.ts';
import { migratePostgres } from '../../../registry/sql/pg-migrate.ts';
import type { Sql, SqlValue } from '../../../registry/sql/port.ts';
import { createLogger } from '../../../lib/logger.ts';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres.ts';

const logger = createLogger('silent');

/**
 * The replicator alone (registry/replica/), over real PostgreSQL and SQLite files in memory,
 * driven by hand (`flush`, `pull`; the rounds are far apart): what two nodes converge to.
 */
describe('registry replication: convergence', { timeout: 30_000 }, () => {
  let server: TestPostgres;
  let sql: Sql;
  const nodes: Array<{ db: Db; replicator: RegistryReplicator }> = [];

  const node = async (name: string, seed?: (db: Db) => void, over: Sql = sql) => {
    const db = openDb(':memory:');
    seed?.(db);
    const replicator = createRegistryReplicator({ local: createLocalReplica(db), sql: over, nodeId: name, onApplied: () => undefined, logger, pollMs: 60_000 });
    await replicator.start();
    nodes.push({ db, replicator });
    return { db, replicator };
  };
  const name = (db: Db, id: string) => (db.prepare('SELECT name FROM communities WHERE id = ?').get(id) as { name: string } | undefined)?.name;

  beforeAll(async () => {
    server = await startTestPostgres();
    sql = createPostgresSql({ url: await server.createDatabase() });
    await migratePostgres(sql);
  });
  afterAll(async () => {
    for (const n of nodes) await n.replicator.stop();
    await sql?.close();
    await server?.stop();
  });

  it('the first node bootstraps PostgreSQL; a node with rows of its own merges (PostgreSQL wins on shared keys, its own are shipped)', async () => {
    const a = await node('a', (db) => {
      db.prepare("INSERT INTO districts (id, name) VALUES ('d1', 'D1')").run();
      db.prepare("INSERT INTO communities (id, district_id, name) VALUES ('c1', 'd1', 'from A')").run();
    });
    const b = await node('b', (db) => {
      db.prepare("INSERT INTO districts (id, name) VALUES ('d1', 'D1')").run();
      db.prepare("INSERT INTO communities (id, district_id, name) VALUES ('c1', 'd1', 'from B')").run();
      db.prepare("INSERT INTO communities (id, district_id, name) VALUES ('c2', 'd1', 'only B')").run();
    });
    expect(name(b.db, 'c1')).toBe('from A');
    await a.replicator.pull();
    expect(name(a.db, 'c2')).toBe('only B');
  });

  it('one row changed on both nodes before either ships: both end with the row shipped last', async () => {
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    a.db.prepare("UPDATE communities SET name = 'A edit' WHERE id = 'c1'").run();
    b.db.prepare("UPDATE communities SET name = 'B edit' WHERE id = 'c1'").run();
    await a.replicator.flush();
    await b.replicator.flush();
    // A's pull while B's change is shipped: A takes it. B's pull sees its own row (skipped) — it has it.
    await Promise.all([a.replicator.pull(), b.replicator.pull()]);
    expect([name(a.db, 'c1'), name(b.db, 'c1')]).toEqual(['B edit', 'B edit']);
  });

  it('a node whose change is not shipped yet keeps it against an older remote row, and ships it after', async () => {
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    a.db.prepare("UPDATE communities SET name = 'A shipped' WHERE id = 'c2'").run();
    await a.replicator.flush();
    b.db.prepare("UPDATE communities SET name = 'B later' WHERE id = 'c2'").run();
    await b.replicator.pull();
    expect(name(b.db, 'c2')).toBe('B later');
    await b.replicator.flush();
    await a.replicator.pull();
    expect(name(a.db, 'c2')).toBe('B later');
  });

  it('a delete crosses, and a node that joins later never sees the deleted row', async () => {
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    a.db.prepare("DELETE FROM communities WHERE id = 'c2'").run();
    await a.replicator.flush();
    await b.replicator.pull();
    expect(name(b.db, 'c2')).toBeUndefined();
    const c = await node('c');
    expect(name(c.db, 'c2')).toBeUndefined();
    expect(name(c.db, 'c1')).toBe('B edit');
  });

  it('a change shipped while a pull holds an older remote image of its row: the node keeps its change, as PostgreSQL does', async () => {
    // The pull's read of registry_rows is held (the port is real PostgreSQL; only its answer waits on the gate).
    let gate: Promise<void> | undefined;
    let fetched!: () => void;
    const held = new Promise<void>((resolve) => { fetched = resolve; });
    const gated: Sql = {
      ...sql,
      all: async <T>(text: string, params?: readonly SqlValue[]) => {
        const rows = await sql.all<T>(text, params);
        if (gate && text.startsWith('SELECT tbl, pk, row, seq, origin')) {
          fetched();
          await gate;
        }
        return rows;
      },
    };
    const a = await node('a-gated', undefined, gated);
    const b = nodes[1]!;
    b.db.prepare("UPDATE communities SET name = 'B racing' WHERE id = 'c1'").run();
    await b.replicator.flush();
    let open!: () => void;
    gate = new Promise<void>((resolve) => { open = resolve; });
    const pulled = a.replicator.pull();
    await held; // A has read B's row, not applied it yet
    a.db.prepare("UPDATE communities SET name = 'A newest' WHERE id = 'c1'").run();
    const shipped = a.replicator.flush();
    await Promise.race([shipped, new Promise((resolve) => setTimeout(resolve, 300))]);
    open();
    gate = undefined;
    await Promise.all([pulled, shipped]);
    await a.replicator.pull();
    const remote = await a.replicator.remote('communities', '["c1"]');
    expect((remote?.row as { name: string } | null)?.name).toBe('A newest');
    expect(name(a.db, 'c1')).toBe('A newest');
  });

  it('a text with a NUL character crosses as it is, and does not stop the node\'s later changes from shipping', async () => {
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    // SQLite and the inventory's names take it; PostgreSQL's JSONB refuses \u0000 (it has no text for it).
    a.db.prepare('UPDATE communities SET name = ? WHERE id = ?').run('odd\u0000name', 'c1');
    await a.replicator.flush();
    a.db.prepare("INSERT INTO communities (id, district_id, name) VALUES ('c4', 'd1', 'after it')").run();
    await a.replicator.flush();
    await b.replicator.pull();
    expect([name(b.db, 'c1'), name(b.db, 'c4')]).toEqual(['odd\u0000name', 'after it']);
  });
});
