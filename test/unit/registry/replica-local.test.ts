import { describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../registry/db.ts';
import { createLocalReplica } from '../../../registry/replica/local.ts';
import { keyText } from '../../../registry/replica/tables.ts';

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

  const danglingRows = (db: Db) => db.pragma('foreign_key_check') as Array<{ table: string; parent: string }>;
  const sessions = (db: Db) => (db.prepare('SELECT id_hash FROM user_sessions ORDER BY id_hash').all() as Array<{ id_hash: string }>).map((r) => r.id_hash);
  const session = (id: string, user: string) => ({ id_hash: id, user_name: user, csrf: 'x', created_at: 1, expires_at: 2 });

  it('a user deleted on the other node takes its sessions here, as ON DELETE CASCADE does on one node, and the removal is shipped', () => {
    const db = openDb(':memory:');
    const local = createLocalReplica(db);
    seed(db);
    local.capture(true);
    const { dangling } = local.apply([{ tbl: 'users', pk: keyText(['wang']), row: null, seq: 1, origin: 'n2' }], 1);
    expect(sessions(db)).toEqual([]);
    expect(danglingRows(db)).toEqual([]);
    expect(dangling).toEqual([{ table: 'user_sessions', key: keyText(['s1']), parent: 'users', parentKey: keyText(['wang']), outcome: 'deleted' }]);
    // Shipped as this node's change: PostgreSQL's row of the session becomes its delete, for every node and a late joiner.
    expect(outbound(db)).toEqual([{ tbl: 'user_sessions', pk: keyText(['s1']) }]);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('a session started on the other node for a user deleted here meanwhile is removed on its arrival', () => {
    const db = openDb(':memory:');
    const local = createLocalReplica(db);
    seed(db);
    local.capture(true);
    db.prepare("DELETE FROM users WHERE name = 'wang'").run(); // cascades s1 here, both recorded
    db.prepare('DELETE FROM registry_outbound').run(); // shipped
    const { dangling, changes } = local.apply([{ tbl: 'user_sessions', pk: keyText(['s2']), row: session('s2', 'wang'), seq: 2, origin: 'n2' }], 2);
    expect(sessions(db)).toEqual([]);
    expect(dangling.map((d) => [d.table, d.key, d.outcome])).toEqual([['user_sessions', keyText(['s2']), 'deleted']]);
    expect(changes.get('user_sessions')).toEqual([keyText(['s2'])]);
    expect(outbound(db)).toEqual([{ tbl: 'user_sessions', pk: keyText(['s2']) }]);
  });

  it('a device whose zone was deleted on the other node meanwhile (no ON DELETE rule: one node refuses either write) is kept as it came, reported once per apply that brings it', () => {
    const db = openDb(':memory:');
    const local = createLocalReplica(db);
    seed(db);
    db.prepare("INSERT INTO zones (id, community_id, name) VALUES ('z1', 'c1', 'Z1')").run();
    local.capture(true);
    const device = { id: 'dv', kind: 'soil', secret_hash: 'h', community_id: null, zone_id: 'z1', facility_id: null, dev_eui: null, report_interval_s: 900, disabled: 0, created_at: 't' };
    const first = local.apply([
      { tbl: 'zones', pk: keyText(['z1']), row: null, seq: 1, origin: 'n2' },
      { tbl: 'devices', pk: keyText(['dv']), row: device, seq: 2, origin: 'n3' },
    ], 2);
    expect(db.prepare("SELECT zone_id FROM devices WHERE id = 'dv'").get()).toEqual({ zone_id: 'z1' });
    expect(first.dangling).toEqual([{ table: 'devices', key: keyText(['dv']), parent: 'zones', parentKey: keyText(['z1']), outcome: 'left' }]);
    expect(outbound(db)).toEqual([]); // nothing of this node's to ship: every node holds the same row
    // An apply that touches neither the device nor its zone does not report it again; one that brings the device does.
    expect(local.apply([{ tbl: 'communities', pk: keyText(['c1']), row: { id: 'c1', district_id: 'd1', name: 'C1b' }, seq: 3, origin: 'n2' }], 3).dangling).toEqual([]);
    expect(local.apply([{ tbl: 'devices', pk: keyText(['dv']), row: { ...device, disabled: 1 }, seq: 4, origin: 'n3' }], 4).dangling).toHaveLength(1);
    // The row stays writable here: a later change of a column other than its reference, or its removal.
    db.prepare("UPDATE devices SET report_interval_s = 600 WHERE id = 'dv'").run();
    expect(local.lastSeq()).toBe(4);
  });

  it('the rule is read from the schema: ON DELETE SET NULL clears the reference, and a child table of this node\'s own is checked too', () => {
    const db = openDb(':memory:');
    seed(db);
    db.prepare("INSERT INTO zones (id, community_id, name) VALUES ('z1', 'c1', 'Z1')").run();
    db.exec('CREATE TABLE zone_notes (note TEXT, zone_id TEXT REFERENCES zones(id) ON DELETE SET NULL)');
    db.prepare("INSERT INTO zone_notes (note, zone_id) VALUES ('dry corner', 'z1')").run();
    const local = createLocalReplica(db);
    const { dangling } = local.apply([{ tbl: 'zones', pk: keyText(['z1']), row: null, seq: 1, origin: 'n2' }], 1);
    expect(db.prepare('SELECT note, zone_id FROM zone_notes').all()).toEqual([{ note: 'dry corner', zone_id: null }]);
    expect(dangling).toEqual([{ table: 'zone_notes', key: keyText([1]), parent: 'zones', parentKey: keyText(['z1']), outcome: 'set_null' }]);
  });

  it('a table whose check SQLite cannot run is undone alone and reported: the other tables are checked, the rows stay applied and the seq moves on', () => {
    const db = openDb(':memory:');
    seed(db);
    // A child table the check knows of (read at the start), gone since: foreign_key_check fails on it.
    db.exec("CREATE TABLE odd (user_name TEXT REFERENCES users(name) ON DELETE CASCADE)");
    const local = createLocalReplica(db);
    db.exec('DROP TABLE odd');
    const result = local.apply([
      { tbl: 'users', pk: keyText(['wang']), row: null, seq: 1, origin: 'n2' },
      { tbl: 'districts', pk: keyText(['d2']), row: { id: 'd2', name: 'D2' }, seq: 2, origin: 'n2' },
    ], 2);
    expect(result.unchecked.map((u) => [u.table, u.error.message])).toEqual([['odd', expect.stringMatching(/odd/)]]);
    // The sessions' check ran on its own: the user's session went with it, as one node's cascade does.
    expect(result.dangling.map((d) => [d.table, d.outcome])).toEqual([['user_sessions', 'deleted']]);
    expect(db.prepare("SELECT count(*) AS n FROM users WHERE name = 'wang'").get()).toEqual({ n: 0 });
    expect(db.prepare("SELECT name FROM districts WHERE id = 'd2'").get()).toEqual({ name: 'D2' });
    expect(local.lastSeq()).toBe(2);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });
});
