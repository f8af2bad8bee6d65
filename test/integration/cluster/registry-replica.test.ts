import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, eventually, startTestApp, uniqueDb, type TestApp } from '../../helpers/app.ts';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { connect } from '../../helpers/mqtt.ts';
import { startTestRedis } from '../../helpers/redis.ts';
import { LOCK_FILE } from '../../../lib/data-dir-lock.ts';

const V1 = '/api/v1';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** Connects with the secret: true on CONNACK, false when refused. */
const accepts = async (node: TestApp, id: string, secret: string): Promise<boolean> => {
  try {
    const client = await connect(node.app.mqttPort, { clientId: id, username: id, password: secret });
    client.end(true);
    return true;
  } catch (error) {
    expect((error as Error).message).toMatch(/Not authorized|Bad username or password/);
    return false;
  }
};

const city = (devices: string[]) => ({
  version: 1,
  districts: [{
    id: 'd-r', name: '洮北区',
    subDistricts: [{
      id: 's-r', name: '明仁街道',
      communities: [{
        id: 'c-r', name: '幸福小区',
        zones: [{ id: 'z-r1', name: '北侧草坪', plant: 'lawn', mode: 'manual', areaM2: 120 }],
        devices: devices.map((id) => ({ id, kind: 'soil', zone: 'z-r1' })),
      }],
    }],
  }],
});

/**
 * The registry shared through PostgreSQL (registry/replica/): apps with their own data
 * directories and SQLite files over one PostgreSQL and one credential key file. What one
 * node is told through its API, the others know (within the LISTEN round trip), and a
 * write is answered only once it is in PostgreSQL.
 */
describe('the registry shared in PostgreSQL (GS_POSTGRES_URL)', { timeout: 60_000 }, () => {
  let pgServer: TestPostgres;
  let url: string;
  let keyDir: string;
  let settings: Record<string, unknown>;
  let bDir: string;
  let a: TestApp;
  let b: TestApp;
  let client: pg.Client;
  const secrets = new Map<string, string>();

  const rowInPg = async (tbl: string, id: string) =>
    (await client.query<{ row: Record<string, unknown> | null }>('SELECT row FROM registry_rows WHERE tbl = $1 AND pk = $2', [tbl, JSON.stringify([id])])).rows[0];

  beforeAll(async () => {
    pgServer = await startTestPostgres();
    url = await pgServer.createDatabase();
    keyDir = mkdtempSync(join(tmpdir(), 'gs-replica-key-'));
    const keyFile = join(keyDir, 'credential-key');
    writeFileSync(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    settings = { postgresUrl: url, credentialKeyFile: keyFile, influxDb: uniqueDb('replica') };
    bDir = mkdtempSync(join(tmpdir(), 'gs-replica-b-'));
    a = await startTestApp(settings);
    b = await startTestApp(settings, { dataDir: bDir });
    client = new pg.Client({ connectionString: url });
    // The outage test stops the server under it; rowInPg is used before that.
    client.on('error', () => undefined);
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await Promise.all([a?.stop(), b?.stop()]);
    await pgServer?.stop();
    for (const dir of [keyDir, bDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an inventory imported on A is in PostgreSQL when A answers, and B lists its places and accepts its devices with the secrets A issued', async () => {
    const res = await a.app.api.inject({ method: 'PUT', url: `${V1}/inventory`, headers: admin, payload: city(['soil-r1', 'soil-r2']) });
    expect(res.statusCode, res.body).toBe(200);
    // No wait: the answer came after the ship.
    expect((await rowInPg('devices', 'soil-r1'))?.row).toMatchObject({ id: 'soil-r1', zone_id: 'z-r1' });
    expect((await rowInPg('zones', 'z-r1'))?.row).toMatchObject({ community_id: 'c-r', area_m2: 120 });
    for (const { deviceId, secret } of (res.json() as { credentials: Array<{ deviceId: string; secret: string }> }).credentials) secrets.set(deviceId, secret);

    await eventually(() => (b.app.devices.get('soil-r2') ? true : undefined), 2_000, 'soil-r2 on B');
    expect(b.app.city.listCommunities().map((c) => c.id)).toContain('c-r');
    expect(b.app.devices.get('soil-r1')).toMatchObject({ communityId: 'c-r', districtId: 'd-r', zoneId: 'z-r1', subDistrictId: 's-r' });
    const zone = await b.app.api.inject({ method: 'GET', url: `${V1}/inventory`, headers: admin });
    expect(JSON.stringify(zone.json())).toContain('北侧草坪');
    expect(await accepts(b, 'soil-r1', secrets.get('soil-r1')!)).toBe(true);
    expect(await accepts(b, 'soil-r2', secrets.get('soil-r2')!)).toBe(true);
  });

  it('a secret rotated on A: B refuses the old one within 2 s and takes the new; a device disabled on A loses its connection to B', async () => {
    const live = await connect(b.app.mqttPort, { clientId: 'soil-r2', username: 'soil-r2', password: secrets.get('soil-r2')! });
    const dropped = new Promise<void>((resolve) => live.once('close', () => resolve()));

    const rotated = await a.app.api.inject({ method: 'POST', url: `${V1}/devices/soil-r1/secret`, headers: admin });
    expect(rotated.statusCode).toBe(200);
    const fresh = (rotated.json() as { secret: string }).secret;
    const started = Date.now();
    await eventually(async () => ((await accepts(b, 'soil-r1', secrets.get('soil-r1')!)) ? undefined : true), 2_000, 'old secret refused on B');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await accepts(b, 'soil-r1', fresh)).toBe(true);
    secrets.set('soil-r1', fresh);

    expect((await a.app.api.inject({ method: 'POST', url: `${V1}/devices/soil-r2/disable`, headers: admin })).statusCode).toBe(200);
    await Promise.race([dropped, new Promise((_, reject) => setTimeout(() => reject(new Error('B kept the disabled device connected')), 2_000))]);
    expect(await accepts(b, 'soil-r2', secrets.get('soil-r2')!)).toBe(false);
    live.end(true);
  });

  it('a token and a user created on A work on B, a session made on A is valid on B, and a token revoked on A is refused by B', async () => {
    const made = await a.app.api.inject({ method: 'POST', url: `${V1}/tokens`, headers: admin, payload: { name: 'grafana', role: 'viewer' } });
    expect(made.statusCode).toBe(201);
    const { token, secret } = made.json() as { token: { id: string }; secret: string };
    expect(await rowInPg('api_tokens', token.id)).toBeDefined();
    const asToken = { authorization: `Bearer ${secret}` };
    await eventually(async () => ((await b.app.api.inject({ method: 'GET', url: `${V1}/session`, headers: asToken })).statusCode === 200 ? true : undefined), 2_000, 'token on B');

    const user = await a.app.api.inject({ method: 'POST', url: `${V1}/users`, headers: admin, payload: { name: 'wang.li', role: 'operator', password: 'correct horse battery' } });
    expect(user.statusCode, user.body).toBe(201);
    const login = (node: TestApp) => node.app.api.inject({ method: 'POST', url: `${V1}/session`, payload: { name: 'wang.li', password: 'correct horse battery' } });
    await eventually(async () => ((await login(b)).statusCode === 200 ? true : undefined), 2_000, 'login on B');

    const onA = await login(a);
    expect(onA.statusCode).toBe(200);
    const cookie = String(onA.headers['set-cookie']).split(';')[0]!;
    const me = await eventually(async () => {
      const res = await b.app.api.inject({ method: 'GET', url: `${V1}/session`, headers: { cookie } });
      return res.statusCode === 200 ? res.json() as { name: string } : undefined;
    }, 2_000, 'A\'s session on B');
    expect(me.name).toBe('wang.li');

    expect((await a.app.api.inject({ method: 'DELETE', url: `${V1}/tokens/${token.id}`, headers: admin })).statusCode).toBe(200);
    await eventually(async () => ((await b.app.api.inject({ method: 'GET', url: `${V1}/session`, headers: asToken })).statusCode === 401 ? true : undefined), 2_000, 'revoked token refused on B');
  });

  it('a node started on an empty data directory has the registry before it lets devices in', async () => {
    const c = await startTestApp(settings);
    try {
      // No wait: the first sync is part of the start.
      expect(c.app.devices.get('soil-r1')).toMatchObject({ zoneId: 'z-r1', communityId: 'c-r' });
      expect(c.app.devices.get('soil-r2')).toMatchObject({ disabled: true });
      expect(await accepts(c, 'soil-r1', secrets.get('soil-r1')!)).toBe(true);
      expect(c.app.people.users.get('wang.li')).toMatchObject({ role: 'operator' });
    } finally {
      await c.stop();
    }
  });

  it('a node that was down catches up from its last applied seq at its start', async () => {
    await b.stop();
    const rotated = await a.app.api.inject({ method: 'POST', url: `${V1}/devices/soil-r1/secret`, headers: admin });
    const fresh = (rotated.json() as { secret: string }).secret;
    expect((await a.app.api.inject({ method: 'POST', url: `${V1}/devices/soil-r2/enable`, headers: admin })).statusCode).toBe(200);
    const imported = await a.app.api.inject({ method: 'PUT', url: `${V1}/inventory`, headers: admin, payload: city(['soil-r1', 'soil-r2', 'soil-r3']) });
    expect(imported.statusCode).toBe(200);
    b = await startTestApp(settings, { dataDir: bDir });
    expect(b.app.devices.get('soil-r3')).toMatchObject({ zoneId: 'z-r1' });
    expect(b.app.devices.get('soil-r2')).toMatchObject({ disabled: false });
    expect(await accepts(b, 'soil-r1', fresh)).toBe(true);
    expect(await accepts(b, 'soil-r1', secrets.get('soil-r1')!)).toBe(false);
  });

  it('a clustered node without GS_CREDENTIAL_KEY_FILE refuses to start (its own key would refuse every device shared to it), and releases its data directory', async () => {
    const redis = await startTestRedis();
    const dataDir = mkdtempSync(join(tmpdir(), 'gs-replica-nokey-'));
    try {
      const start = startTestApp({ postgresUrl: url, cluster: 'redis', redisUrl: redis.url, influxDb: uniqueDb('replica') }, { dataDir });
      await expect(start).rejects.toThrow(/GS_CREDENTIAL_KEY_FILE is required with GS_CLUSTER=redis and GS_POSTGRES_URL/);
      expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await redis.stop();
    }
  });

  it('a change made on B reaches A too (both ways)', async () => {
    const moved = await b.app.api.inject({ method: 'POST', url: `${V1}/devices/soil-r3/disable`, headers: admin });
    expect(moved.statusCode).toBe(200);
    await eventually(() => (a.app.devices.get('soil-r3')?.disabled ? true : undefined), 2_000, 'soil-r3 disabled on A');
  });

  it('PostgreSQL away: a registry write is kept on its node and answered 503 (a login answered 200), then shipped once PostgreSQL is back (LISTEN made again)', async () => {
    await pgServer.halt();
    try {
      const made = await a.app.api.inject({ method: 'POST', url: `${V1}/tokens`, headers: admin, payload: { name: 'during-outage', role: 'viewer' } });
      expect(made.statusCode).toBe(503);
      expect(made.json()).toMatchObject({ error: 'registry_not_shared' });
      // The token exists on A (its SQLite and index), just not yet anywhere else.
      const list = (await a.app.api.inject({ method: 'GET', url: `${V1}/tokens`, headers: admin })).json() as Array<{ name: string }>;
      expect(list.map((t) => t.name)).toContain('during-outage');
      // A login is the exception: people still log in on this node (its session reaches the others once shipped).
      const login = await a.app.api.inject({ method: 'POST', url: `${V1}/session`, payload: { name: 'wang.li', password: 'correct horse battery' } });
      expect(login.statusCode).toBe(200);
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      expect((await a.app.api.inject({ method: 'GET', url: `${V1}/session`, headers: { cookie } })).statusCode).toBe(200);
    } finally {
      await pgServer.restart();
    }
    await eventually(async () => {
      const onB = (await b.app.api.inject({ method: 'GET', url: `${V1}/tokens`, headers: admin })).json() as Array<{ name: string }>;
      return onB.some((t) => t.name === 'during-outage') ? true : undefined;
    }, 10_000, 'the token shipped after the outage');
    // And the notifications flow again: a write after the outage reaches B within the usual time.
    expect((await a.app.api.inject({ method: 'POST', url: `${V1}/devices/soil-r3/enable`, headers: admin })).statusCode).toBe(200);
    await eventually(() => (b.app.devices.get('soil-r3')?.disabled === false ? true : undefined), 2_000, 'soil-r3 enabled on B');
  });
});
