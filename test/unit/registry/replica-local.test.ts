import { describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../registry/db.ts';
import { createLocalReplica, keyText } from '../../../registry/replica/local.ts';

const outbound = (db: Db) => db.prepare('SELECT tbl, pk FROM registry_outbound ORDER BY id').all() as Array<{ tbl: string; pk: string }>;

function seed(db: Db): void {
  db.prepare("INSERT INTO districts (id, name) VALUES ('d1', 'D1')").run();
  db.prepare("INSERT INTO communities (id, district_id, name) VALUES ('c1', 'd1', 'C1')").run();
  db.prepare("INSERT INTO users (name, role, password_hash, created_at, password_changed_at) VALUES ('wang', 'operator', 'h', 't', 't')").run();
  db.prepare("INSERT INTO user_sessions (id_hash, user_name, csrf, created_at, expires_at) VALUES ('s1', 'wang', 'x', 1, 2)").run();
}

/** SQLite's side of the registry's replication (registry/replica/local.ts, migration 130), on a real file's schema in memory. */
describe('the local replica of the registry', () => {
  it('records nothing while capture is off (one process without PostgreSQL): the triggers are switched off', () => {
    const db = openDb(':memory:');
    seed(db);
    db.prepare("UPDATE communities SET name = 'C1b' WHERE id = 'c1'").run();
    expect(outbound(db)).toEqual([]);
    expect(createLocalReplica(db).pending().keys).toEqual([]);
  });

  it('records each changed key once capture is on, an update of a key both its old and its new key, a delete too', () => {
    const db = openDb(':memory:');
    const local = createLocalReplica(db);
    local.capture(true);
    seed(db);
    db.prepare("INSERT INTO districts (id, name) VALUES ('dx', 'DX')").run();
    db.prepare("UPDATE districts SET id = 'd2' WHERE id = 'dx'").run();
    db.prepare("DELETE FROM user_sessions WHERE id_hash = 's1'").run();
    const { keys } = local.pending();
    expect(keys).toEqual(expect.arrayContaining([
      { tbl: 'districts', pk: keyText(['dx']) }, { tbl: 'districts', pk: keyText(['d2']) },
      { tbl: 'communities', pk: keyText(['c1']) }, { tbl: 'users', pk: keyText(['wang']) }, { tbl: 'user_sessions', pk: keyText(['s1']) },
    ]));
    expect(local.image({ tbl: 'user_sessions', pk: keyText(['s1']) })).toBeNull();
    expect(local.image({ tbl: 'districts', pk: keyText(['d2']) })).toMatchObject({ id: 'd2', name: 'DX' });
  });

  it('applies rows without recording them, updates in place (a user\'s sessions survive its row), skips a key with a change not shipped yet, and deletes', () => {
    const db = openDb(':memory:');
    const local = createLocalReplica(db);
    seed(db);
    local.capture(true);
    db.prepare("UPDATE communities SET name = 'mine, newer' WHERE id = 'c1'").run();
    const { changes } = local.apply([
      { tbl: 'users', pk: keyText(['wang']), row: { name: 'wang', role: 'admin', districts: null, password_hash: 'h2', created_at: 't', password_changed_at: 't2', disabled_at: null }, seq: 1, origin: 'n2' },
      { tbl: 'communities', pk: keyText(['c1']), row: { id: 'c1', district_id: 'd1', name: 'theirs, older' }, seq: 2, origin: 'n2' },
      // A child before its parent: rows come as their latest image, foreign keys are not checked.
      { tbl: 'zones', pk: keyText(['z9']), row: { id: 'z9', community_id: 'c9', name: 'Z9', plant: 'lawn', mode: 'manual' }, seq: 3, origin: 'n2' },
      { tbl: 'communities', pk: keyText(['c9']), row: { id: 'c9', district_id: 'd1', name: 'C9' }, seq: 4, origin: 'n2' },
      { tbl: 'districts', pk: keyText(['gone']), row: null, seq: 5, origin: 'n2' },
      { tbl: 'dead_letters', pk: keyText([1]), row: { id: 1 }, seq: 6, origin: 'n2' },
    ], 6);
    expect([...changes.keys()].sort()).toEqual(['communities', 'districts', 'users', 'zones']);
    expect(db.prepare("SELECT role FROM users WHERE name = 'wang'").get()).toEqual({ role: 'admin' });
    expect(db.prepare("SELECT count(*) AS n FROM user_sessions WHERE user_name = 'wang'").get()).toEqual({ n: 1 });
    expect(db.prepare("SELECT name FROM communities WHERE id = 'c1'").get()).toEqual({ name: 'mine, newer' });
    expect(db.prepare("SELECT community_id FROM zones WHERE id = 'z9'").get()).toEqual({ community_id: 'c9' });
    expect(outbound(db).map((r) => r.tbl)).toEqual(['communities']);
    expect(local.lastSeq()).toBe(6);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('a unique value moved between rows applies whatever the rows\' seq order: a node catching up gets the row that took it after the one that released it', () => {
    const db = openDb(':memory:');
    const local = createLocalReplica(db);
    seed(db);
    local.capture(true);
    const device = (id: string, devEui: string | null) => ({ id, kind: 'soil', secret_hash: 'h', community_id: 'c1', zone_id: null, facility_id: null, dev_eui: devEui, report_interval_s: 900, disabled: 0, created_at: 't' });
    local.apply([
      { tbl: 'devices', pk: keyText(['x']), row: device('x', 'eui-1'), seq: 1, origin: 'n2' },
      { tbl: 'devices', pk: keyText(['y']), row: device('y', null), seq: 2, origin: 'n2' },
    ], 2);
    // On n2: x released eui-1 (seq 5), y took it (seq 6), x renamed later (seq 9): registry_rows keeps each key's latest seq only.
    const { refused } = local.apply([
      { tbl: 'devices', pk: keyText(['y']), row: device('y', 'eui-1'), seq: 6, origin: 'n2' },
      { tbl: 'devices', pk: keyText(['x']), row: { ...device('x', null), report_interval_s: 600 }, seq: 9, origin: 'n2' },
    ], 9);
    expect(refused).toEqual([]);
    expect(db.prepare('SELECT id, dev_eui FROM devices ORDER BY id').all()).toEqual([{ id: 'x', dev_eui: null }, { id: 'y', dev_eui: 'eui-1' }]);
    expect(outbound(db)).toEqual([]);
  });
});
