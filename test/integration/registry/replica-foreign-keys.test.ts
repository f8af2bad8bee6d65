import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../registry/db.ts';
import { createLocalReplica } from '../../../registry/replica/local.ts';
import { createRegistryReplicator, type RegistryReplicator } from '../../../registry/replica/replicator.ts';
import { createPostgresSql } from '../../../registry/sql/postgres.ts';
import { migratePostgres } from '../../../registry/sql/pg-migrate.ts';
import type { Sql } from '../../../registry/sql/port.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createMetrics, type Metrics } from '../../../lib/metrics.ts';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres.ts';

interface Node { db: Db; replicator: RegistryReplicator; metrics: Metrics; logged: string[] }

/**
 * A reference to a row another node deleted meanwhile (registry/replica/foreign-keys.ts): an
 * apply runs with foreign keys unchecked, so a row can arrive whose parent is gone, or a
 * parent's delete arrive while a row here still points at it. Two replicators over real
 * PostgreSQL and SQLite in memory, driven by hand (`flush`, `pull`).
 */
describe('registry replication: references to a row deleted on another node', { timeout: 30_000 }, () => {
  let server: TestPostgres;
  let sql: Sql;
  const nodes: Node[] = [];

  const node = async (name: string, seed?: (db: Db) => void): Promise<Node> => {
    const db = openDb(':memory:');
    seed?.(db);
    const metrics = createMetrics({ defaults: false });
    const logged: string[] = [];
    const logger = createLogger('warn', new Writable({ write(chunk, _enc, done) { logged.push(String(chunk)); done(); } }));
    const replicator = createRegistryReplicator({ local: createLocalReplica(db), sql, nodeId: name, onApplied: () => undefined, logger, metrics, pollMs: 60_000 });
    await replicator.start();
    const n = { db, replicator, metrics, logged };
    nodes.push(n);
    return n;
  };
  /** Ship both, apply both, twice: what one node's apply removed ships as its change and reaches the other. */
  const exchange = async (...ns: Node[]) => {
    for (let round = 0; round < 2; round++) {
      for (const n of ns) await n.replicator.flush();
      for (const n of ns) await n.replicator.pull();
    }
  };
  const violations = async (n: Node) => (await n.metrics.registry.getSingleMetric('gs_registry_replica_fk_violations_total')?.get())?.values
    .map((v) => ({ ...v.labels, n: v.value })) ?? [];
  const sessionsOf = (n: Node) => (n.db.prepare('SELECT id_hash FROM user_sessions').all() as Array<{ id_hash: string }>).map((r) => r.id_hash);

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

  it('a session started on B for a user deleted on A meanwhile: gone on both and in PostgreSQL, as ON DELETE CASCADE leaves one node; counted on each', async () => {
    const a = await node('a', (db) => {
      db.prepare("INSERT INTO districts (id, name) VALUES ('d1', 'D1')").run();
      db.prepare("INSERT INTO communities (id, district_id, name) VALUES ('c1', 'd1', 'C1')").run();
      db.prepare("INSERT INTO zones (id, community_id, name) VALUES ('z1', 'c1', 'Z1')").run();
      db.prepare("INSERT INTO users (name, role, password_hash, created_at, password_changed_at) VALUES ('wang', 'operator', 'h', 't', 't')").run();
    });
    const b = await node('b');
    expect(b.db.prepare("SELECT name FROM users WHERE name = 'wang'").get()).toEqual({ name: 'wang' });
    // Neither has shipped when the other writes.
    a.db.prepare("DELETE FROM users WHERE name = 'wang'").run();
    b.db.prepare("INSERT INTO user_sessions (id_hash, user_name, csrf, created_at, expires_at) VALUES ('s-b', 'wang', 'x', 1, 2)").run();
    await exchange(a, b);
    expect([sessionsOf(a), sessionsOf(b)]).toEqual([[], []]);
    expect([a.db.pragma('foreign_key_check'), b.db.pragma('foreign_key_check')]).toEqual([[], []]);
    expect((await a.replicator.remote('user_sessions', '["s-b"]'))?.row).toBeNull();
    const late = await node('late');
    expect(sessionsOf(late)).toEqual([]);
    const cascaded = [{ table: 'user_sessions', parent: 'users', outcome: 'deleted', n: 1 }];
    expect([await violations(a), await violations(b)]).toEqual([cascaded, cascaded]);
  });

  it('a device added on B to a zone pruned on A meanwhile: the same row on both, counted and logged on each, and replication goes on', async () => {
    const [a, b] = nodes as [Node, Node];
    a.db.prepare("DELETE FROM zones WHERE id = 'z1'").run();
    b.db.prepare("INSERT INTO devices (id, kind, secret_hash, zone_id, created_at) VALUES ('dv', 'soil', 'h', 'z1', 't')").run();
    await exchange(a, b);
    for (const n of [a, b]) {
      expect(n.db.prepare("SELECT zone_id FROM devices WHERE id = 'dv'").get()).toEqual({ zone_id: 'z1' });
      expect(n.db.prepare("SELECT id FROM zones WHERE id = 'z1'").get()).toBeUndefined();
      expect(await violations(n)).toContainEqual({ table: 'devices', parent: 'zones', outcome: 'left', n: 1 });
      expect(n.logged.join('')).toMatch(/"table":"devices","key":"\[\\"dv\\"\]","parent":"zones","parentKey":"\[\\"z1\\"\]"/);
    }
    // Not counted again by rows that touch neither; a later change crosses as before.
    a.db.prepare("UPDATE communities SET name = 'C1 after' WHERE id = 'c1'").run();
    await exchange(a, b);
    expect(b.db.prepare("SELECT name FROM communities WHERE id = 'c1'").get()).toEqual({ name: 'C1 after' });
    expect(await violations(b)).toContainEqual({ table: 'devices', parent: 'zones', outcome: 'left', n: 1 });
  });

  it('a check that fails on a node is counted and logged there, and its replication goes on', async () => {
    const a = nodes[0]!;
    // A child table the check read at the start, dropped since: foreign_key_check fails on it.
    const odd = await node('odd', (db) => db.exec('CREATE TABLE odd (user_name TEXT REFERENCES users(name) ON DELETE CASCADE)'));
    odd.db.exec('DROP TABLE odd');
    a.db.prepare("INSERT INTO users (name, role, password_hash, created_at, password_changed_at) VALUES ('li', 'operator', 'h', 't', 't')").run();
    await exchange(a, odd);
    a.db.prepare("DELETE FROM users WHERE name = 'li'").run();
    await exchange(a, odd);
    expect(odd.db.prepare("SELECT name FROM users WHERE name = 'li'").get()).toBeUndefined();
    expect(await violations(odd)).toContainEqual({ table: 'odd', parent: '*', outcome: 'unchecked', n: 1 });
    expect(odd.logged.join('')).toMatch(/"table":"odd".*foreign-key check after an apply failed/);
    a.db.prepare("UPDATE communities SET name = 'C1 later' WHERE id = 'c1'").run();
    await exchange(a, odd);
    expect(odd.db.prepare("SELECT name FROM communities WHERE id = 'c1'").get()).toEqual({ name: 'C1 later' });
  });
});
