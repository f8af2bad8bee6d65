import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../../registry/db.ts';
import { ADMIN_TOKEN, startTestApp } from '../../helpers/app.ts';
import { cli } from '../inventory/run-cli.ts';
import { tryConnect } from '../broker/support.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

// Each CLI run compiles cli.ts with tsx in a child process: seconds apiece on a busy machine.
describe('backup and restore of the registry and ledger', { timeout: 180_000 }, () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'gs-backup-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('backs up while the server runs and writes; a fresh data directory restored from it starts with the same devices, alerts and work orders', async () => {
    const live = join(dir, 'live');
    mkdirSync(live);
    writeFileSync(join(live, 'admin-token'), 'generated-token\n', { mode: 0o600 }); // as a server without GS_ADMIN_TOKEN writes it
    const t = await startTestApp({}, { dataDir: live });
    let before: { devices: unknown; alerts: unknown; workOrders: unknown };
    let deviceSecret = '';
    const backup = join(dir, 'backup');
    try {
      deviceSecret = await t.register({ id: 'soil-b1', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
      await t.register({ id: 'tilt-b1', kind: 'tilt', place: { district: 'd1', community: 'c1', facility: 'pav-1', facilityType: 'pavilion' } });
      await t.app.health.alerts.apply({ action: 'raise', kind: 'facility_tilt', subject: 'pav-1', severity: 'critical', message: 'pavilion pav-1 tilted 9°', communityId: 'c1', districtId: 'd1', details: { tiltDeg: 9 }, at: Date.now() });
      const get = async (url: string) => (await t.app.api.inject({ url, headers: auth })).json() as unknown[];
      before = { devices: await get('/api/v1/devices'), alerts: await get('/api/v1/alerts'), workOrders: await get('/api/v1/work-orders') };
      expect(before.alerts).toHaveLength(1);
      expect(before.workOrders).toHaveLength(1);

      // The server keeps writing while the copy is taken: one transaction, so a consistent copy.
      const writing = (async () => { for (let i = 0; i < 20; i++) await t.register({ id: `soil-w${i}`, kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } }); })();
      const run = await cli(['backup', backup, '--data-dir', live], dir);
      await writing;
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(/^backed up .* \(schema \d+; devices \d+, zones 1, facilities 1, alerts 1, work_orders 1, work_order_events 1\)/);
      expect(run.stdout).toContain('influxd backup -portable -database');
      expect(readdirSync(backup).sort()).toEqual(['admin-token', 'backup.json', 'credential-key', 'greenspace.db', 'link-key']);
      for (const file of ['greenspace.db', 'credential-key', 'link-key']) expect(statSync(join(backup, file)).mode & 0o077).toBe(0);
    } finally {
      await t.stop();
    }

    const fresh = join(dir, 'fresh');
    const restored = await cli(['restore', backup, '--data-dir', fresh], dir);
    expect(restored).toMatchObject({ code: 0, stderr: '' });
    const again = await cli(['restore', backup, '--data-dir', fresh], dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already holds a registry: pass --replace');

    expect(readFileSync(join(fresh, 'admin-token'), 'utf8')).toBe('generated-token\n');
    const u = await startTestApp({}, { dataDir: fresh });
    try {
      const get = async (url: string) => (await u.app.api.inject({ url, headers: auth })).json() as Array<Record<string, unknown>>;
      const devices = await get('/api/v1/devices');
      // the two devices, and whichever of the 20 registered during the copy were committed before it began
      expect(devices.filter((d) => !String(d.id).startsWith('soil-w'))).toEqual(before.devices);
      expect(await get('/api/v1/alerts')).toEqual(before.alerts);
      expect(await get('/api/v1/work-orders')).toEqual(before.workOrders);
      // The device's secret still works: its keyed hash came back with the key it was made with.
      const device = await tryConnect(u.app.mqttPort, { clientId: 'soil-b1', username: 'soil-b1', password: deviceSecret });
      device.client.end(true);
      expect(device.outcome).toBe('connected');
    } finally {
      await u.stop();
    }
  });

  it('refuses a backup whose database is damaged, and keeps the registry it would replace', async () => {
    const dataDir = join(dir, 'damaged-target');
    const backup = join(dir, 'b2');
    const seeded = await startTestApp({}, { dataDir });
    await seeded.register({ id: 'soil-k1', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
    await seeded.stop();
    expect((await cli(['backup', backup, '--data-dir', dataDir], dir)).code).toBe(0);
    const bytes = readFileSync(join(backup, 'greenspace.db'));
    bytes.fill(0x42, 4096, 8192); // overwrite a page
    writeFileSync(join(backup, 'greenspace.db'), bytes);
    const run = await cli(['restore', backup, '--data-dir', dataDir, '--replace'], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/damaged|malformed|not a database/);
    const db = openDb(join(dataDir, 'greenspace.db'));
    try {
      expect(db.prepare("SELECT id FROM devices WHERE id = 'soil-k1'").get()).toEqual({ id: 'soil-k1' });
    } finally {
      db.close();
    }
    expect(existsSync(join(dataDir, 'greenspace.db.restoring'))).toBe(false);
  });
});
