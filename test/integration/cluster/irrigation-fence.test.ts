import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createIrrigationEngine, loadPersisted } from '../../../irrigation/engine.ts';
import { createIrrigationStore } from '../../../irrigation/store.ts';
import type { ZoneSource } from '../../../irrigation/zone-source.ts';
import type { ZoneConfig } from '../../../contracts/zone.ts';
import { initialZoneState } from '../../../rules/irrigation/state.ts';
import { createRedisLeaseStore } from '../../../cluster/redis-lease-store.ts';
import { createPostgresSql } from '../../../registry/sql/postgres.ts';
import { migratePostgres } from '../../../registry/sql/pg-migrate.ts';
import type { Sql } from '../../../registry/sql/port.ts';
import { startTestRedis } from '../../helpers/redis.ts';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { eventually } from '../../helpers/app.ts';

const T0 = Date.parse('2026-07-01T02:00:00Z');
const logger = createLogger('silent');
const zone = (id: string): ZoneConfig => ({ id, communityId: 'c-1', districtId: 'd-1', name: id, plant: 'lawn', mode: 'automatic', soil: 'loam', valveId: `${id}-v` });
const ZONES = [zone('z-1'), zone('z-2')];
const zones: ZoneSource = {
  get: (id) => ZONES.find((z) => z.id === id),
  list: () => ZONES,
  listByCommunity: (c) => ZONES.filter((z) => z.communityId === c),
  zoneOfValve: (valveId) => ZONES.find((z) => z.valveId === valveId)?.id,
};
const waterNow = { type: 'operator', operation: { op: 'water_now', by: 'op', durationS: 600 } } as const;

/**
 * A node's irrigation engine on the shared PostgreSQL, owning community c-1 while the test
 * says so, under the fencing token its lease acquisition in Redis gave it.
 */
async function node(sql: Sql) {
  const store = createIrrigationStore(sql, logger);
  const commands: string[] = [];
  const lease = { owns: false, token: undefined as number | undefined };
  const engine = createIrrigationEngine({
    zones, store, persisted: await loadPersisted(store), clock: createManualClock(T0), logger, sharedStore: true,
    owns: () => lease.owns, token: () => lease.token,
    publish: async (topic, payload) => { commands.push(`${(JSON.parse(payload) as { action: string }).action} ${topic.split('/')[1]!}`); },
    appendLines: async () => undefined, signal: () => undefined,
  });
  return { store, engine, commands, lease };
}

describe('irrigation writes fenced by the community lease (Redis tokens, PostgreSQL check)', { timeout: 60_000 }, () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let pg: TestPostgres;
  const open: Array<{ close(): Promise<void> | void }> = [];
  beforeAll(async () => { [redis, pg] = await Promise.all([startTestRedis(), startTestPostgres()]); });
  afterAll(async () => {
    for (const c of open.splice(0)) await c.close();
    await Promise.all([redis?.stop(), pg?.stop()]);
  });

  it('a node that lost the lease without knowing neither overwrites the new owner\'s state nor opens or closes a valve; it acts again once it holds a newer lease', async () => {
    const url = await pg.createDatabase();
    const pool = () => { const sql = createPostgresSql({ url }); open.push(sql); return sql; };
    const conn = new Redis(redis.url);
    open.push({ close: () => { conn.disconnect(); } });
    const leases = createRedisLeaseStore(conn);
    await migratePostgres(pool());
    const a = await node(pool());
    const b = await node(pool());

    // A holds c-1 and opens z-1's valve.
    a.lease.token = await leases.acquire('c-1', 'a', 60_000);
    a.lease.owns = true;
    await a.engine.adopt(['z-1', 'z-2']);
    a.engine.dispatch('z-1', waterNow);
    await eventually(() => (a.commands.includes('open z-1-v') ? true : undefined), 3_000, 'A to open z-1');

    // A Redis blip: A's lease lapses and B takes c-1 (a greater token); A does not know yet.
    await conn.del('gs:lease:c-1');
    b.lease.token = await leases.acquire('c-1', 'b', 60_000);
    expect(b.lease.token).toBeGreaterThan(a.lease.token!);
    b.lease.owns = true;
    await b.engine.adopt(['z-1', 'z-2']);
    await eventually(() => (b.commands.includes('close z-1-v') ? true : undefined), 3_000, 'B to close the run A left open');

    // A, still believing it owns c-1, is asked to water z-2: its state write is refused, so no
    // open goes and A stops acting for c-1; when it learns of the loss it closes nothing of B's.
    a.engine.dispatch('z-2', waterNow);
    await a.engine.decisions('z-2', { limit: 1 }); // A's queued writes have run (refused)
    expect(a.engine.isOwned('z-2')).toBe(false);
    a.lease.owns = false;
    a.engine.release(['z-1', 'z-2']);
    await a.engine.decisions('z-1', { limit: 1 });
    await new Promise((r) => setTimeout(r, 100));
    expect(a.commands).toEqual(['open z-1-v']);
    expect(b.commands).toEqual(['close z-1-v']);
    // The store holds B's states, not A's: A's water-now on z-2 left neither state nor decision.
    const stored = await b.store.loadStates(['z-1', 'z-2']);
    expect(stored.get('z-1')).toEqual(b.engine.stateOf('z-1'));
    expect(stored.get('z-1')?.run?.phase).toBe('closing');
    expect(stored.get('z-2')?.run).toBeUndefined();
    expect(await b.store.listDecisions('z-2', { limit: 5 })).toEqual([]);

    // B hands c-1 back in order; A takes it with a newer lease and acts again.
    b.lease.owns = false;
    b.engine.release(['z-1', 'z-2']);
    await b.engine.stop();
    await leases.release('c-1', 'b');
    a.lease.token = await leases.acquire('c-1', 'a', 60_000);
    expect(a.lease.token).toBeGreaterThan(b.lease.token!);
    a.lease.owns = true;
    await a.engine.adopt(['z-1', 'z-2']);
    expect(a.engine.isOwned('z-2')).toBe(true);
    a.engine.dispatch('z-2', waterNow);
    await eventually(() => (a.commands.includes('open z-2-v') ? true : undefined), 3_000, 'A to water z-2 under its new lease');
    await a.engine.stop();
    expect((await a.store.listDecisions('z-2', { limit: 5 })).map((d) => `${d.action}:${d.reason}`)).toEqual(['start:operator_water_now']);
  });

  it('a node fenced off acts again under a newer lease even when its takeover could not claim the community (the store failed the claim)', async () => {
    const url = await pg.createDatabase();
    const pool = () => { const sql = createPostgresSql({ url }); open.push(sql); return sql; };
    const conn = new Redis(redis.url);
    open.push({ close: () => { conn.disconnect(); } });
    const leases = createRedisLeaseStore(conn);
    const admin = pool();
    await migratePostgres(admin);
    const a = await node(pool());
    const b = await node(pool());
    a.lease.token = await leases.acquire('c-1', 'a', 60_000);
    a.lease.owns = true;
    await a.engine.adopt(['z-1', 'z-2']);
    // B takes c-1 while A does not know; A's next write is refused: A is fenced off.
    await conn.del('gs:lease:c-1');
    b.lease.token = await leases.acquire('c-1', 'b', 60_000);
    b.lease.owns = true;
    await b.engine.adopt(['z-1', 'z-2']);
    a.engine.dispatch('z-2', waterNow);
    await a.engine.decisions('z-2', { limit: 1 });
    expect(a.engine.isOwned('z-2')).toBe(false);
    a.lease.owns = false;
    a.engine.release(['z-1', 'z-2']);
    b.lease.owns = false;
    b.engine.release(['z-1', 'z-2']);
    await b.engine.stop();
    await leases.release('c-1', 'b');

    // A takes c-1 back with a newer lease, but the store fails its claim (the fence table away
    // for a moment, as PostgreSQL not answering would): the takeover closes the valves and
    // starts the zones afresh. A holds the newest lease: it must act for c-1 again.
    a.lease.token = await leases.acquire('c-1', 'a', 60_000);
    a.lease.owns = true;
    await admin.run('ALTER TABLE community_fences RENAME TO community_fences_away');
    await a.engine.adopt(['z-1', 'z-2']);
    await admin.run('ALTER TABLE community_fences_away RENAME TO community_fences');
    expect(a.engine.isOwned('z-2')).toBe(true);
    a.engine.dispatch('z-2', waterNow);
    await eventually(() => (a.commands.includes('open z-2-v') ? true : undefined), 3_000, 'A to water z-2 under its newer lease');
    await a.engine.stop();
    expect((await a.store.listDecisions('z-2', { limit: 5 })).map((d) => `${d.action}:${d.reason}`)).toEqual(['start:operator_water_now']);
  });

  it('after Redis loses its data (a restart without persistence) the next owner\'s token is still greater: its claim passes and it waters', async () => {
    const url = await pg.createDatabase();
    const pool = () => { const sql = createPostgresSql({ url }); open.push(sql); return sql; };
    const conn = new Redis(redis.url);
    open.push({ close: () => { conn.disconnect(); } });
    const leases = createRedisLeaseStore(conn);
    await migratePostgres(pool());
    const a = await node(pool());
    const b = await node(pool());
    // c-1 changed hands a few times; A holds it and claimed it.
    for (const owner of ['x', 'y', 'z']) {
      await leases.acquire('c-1', owner, 60_000);
      await leases.release('c-1', owner);
    }
    a.lease.token = await leases.acquire('c-1', 'a', 60_000);
    a.lease.owns = true;
    await a.engine.adopt(['z-1', 'z-2']);
    await a.engine.stop();

    // Redis restarts without its data; B takes c-1, the only owner there is now.
    await conn.flushall();
    b.lease.token = await leases.acquire('c-1', 'b', 60_000);
    expect(b.lease.token).toBeGreaterThan(a.lease.token!);
    b.lease.owns = true;
    await b.engine.adopt(['z-1', 'z-2']);
    expect(b.engine.isOwned('z-2')).toBe(true);
    b.engine.dispatch('z-2', waterNow);
    await eventually(() => (b.commands.includes('open z-2-v') ? true : undefined), 3_000, 'B to water z-2');
    await b.engine.stop();
  });

  it('a write under an older token is refused in its transaction; the claim and the write under the newest token pass', async () => {
    const url = await pg.createDatabase();
    const sql = createPostgresSql({ url });
    open.push(sql);
    await migratePostgres(sql);
    const store = createIrrigationStore(sql, logger);
    const state = (pausedUntil: number) => ({ ...initialZoneState('z-1'), pausedUntil });
    await store.saveStates([state(1)], T0, { community: 'c-1', token: 1 });
    expect(await store.claimFence({ community: 'c-1', token: 2 }, T0)).toBe(true);
    await expect(store.saveStates([state(2)], T0, { community: 'c-1', token: 1 })).rejects.toMatchObject({ code: 'fenced', community: 'c-1' });
    expect(await store.claimFence({ community: 'c-1', token: 1 }, T0)).toBe(false);
    expect((await store.loadStates(['z-1'])).get('z-1')?.pausedUntil).toBe(1);
    await store.saveStates([state(3)], T0, { community: 'c-1', token: 2 });
    await store.saveStates([state(4)], T0, { community: 'c-2', token: 1 }); // another community's fence is its own
    expect((await store.loadStates(['z-1'])).get('z-1')?.pausedUntil).toBe(4);
  });
});
