import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../registry/db.ts';
import { createDeviceRegistry, type DeviceRegistry } from '../../../registry/devices.ts';
import { createCityRegistry } from '../../../registry/city.ts';
import { createInventoryService, type InventoryService } from '../../../inventory/service.ts';
import { parseInventoryText, validateInventory } from '../../../inventory/parse.ts';
import { formatInventory } from '../../../inventory/export.ts';
import type { Inventory } from '../../../contracts/inventory.ts';
import { testHasher } from '../../helpers/hasher.ts';

const CITY = readFileSync(new URL('../../../inventory/examples/city.yaml', import.meta.url), 'utf8');
const body = (text: string) => text.replace(/^(#.*\n)+/, '');
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form edits of a YAML tree

function read(text: string): Inventory {
  const parsed = parseInventoryText(text, 'city.yaml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error.slice(0, 3)));
  return parsed.value;
}
/** The committed file, edited: parsed once (YAML is the slow part), cloned, changed, validated again. */
let base: Inventory | undefined;
const city = (): Inventory => (base ??= read(CITY));
const edit = (mutate: (doc: Doc) => void): Inventory => {
  const doc = structuredClone(city()) as Doc;
  mutate(doc);
  const checked = validateInventory(doc, 'edited city.yaml');
  if (!checked.ok) throw new Error(JSON.stringify(checked.error.slice(0, 3)));
  return checked.value;
};
/** A device of the committed file as the registry should answer it: its identity and its place in the city. */
function listed(deviceId: string): Record<string, unknown> {
  for (const district of city().districts) {
    for (const sub of district.subDistricts) {
      for (const community of sub.communities) {
        const d = community.devices.find((x) => x.id === deviceId);
        if (!d) continue;
        const place = { zoneId: d.zone, facilityId: d.facility, gatewayId: d.gateway };
        return {
          id: d.id, kind: d.kind, devEui: d.devEui, reportIntervalS: d.reportIntervalS, disabled: false,
          districtId: district.id, subDistrictId: sub.id, communityId: community.id,
          ...Object.fromEntries(Object.entries(place).filter(([, v]) => v !== undefined)),
        };
      }
    }
  }
  throw new Error(`${deviceId} is not in city.yaml`);
}

const communitiesOf = (doc: Doc): Doc[] => doc.districts.flatMap((d: Doc) => d.subDistricts.flatMap((s: Doc) => s.communities));

describe('importing the city-sized inventory into SQLite', () => {
  let dir: string;
  let db: Db;
  let watcher: Database.Database;
  let devices: DeviceRegistry;
  let inventory: InventoryService;
  let firstSecrets: Map<string, string>;
  const removed: string[] = [];
  /** Another connection's view: PRAGMA data_version moves only when the file was written. */
  const dataVersion = () => watcher.pragma('data_version', { simple: true }) as number;
  const totalChanges = () => (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gs-inv-'));
    db = openDb(join(dir, 'greenspace.db'));
    watcher = new Database(join(dir, 'greenspace.db'), { readonly: true });
    devices = createDeviceRegistry(db, { hasher: testHasher });
    inventory = createInventoryService({ db, now: () => Date.parse('2026-05-01T08:00:00Z'), devices, hashSecret: testHasher.hash }); // the production scheme: keyed, microseconds per device
    inventory.onDevicesRemoved((ids) => removed.push(...ids));
  });
  afterAll(() => {
    watcher?.close();
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('inserts every row of the city and returns each new device\'s secret once', async () => {
    const version = dataVersion();
    const { report, credentials } = await inventory.importInventory(city());
    expect(dataVersion()).not.toBe(version); // the watcher does see commits
    expect(report.tables).toMatchObject({
      districts: { inserted: 3 }, sub_districts: { inserted: 11 }, communities: { inserted: 213 }, zones: { inserted: 742 },
      facilities: { inserted: 600 }, devices: { inserted: 2318 }, teams: { inserted: 6 }, team_communities: { inserted: 213 }, technicians: { inserted: 16 },
    });
    expect(report.rowsWritten).toBe(report.totals.inserted);
    expect(credentials).toHaveLength(2318);
    firstSecrets = new Map(credentials.map((c) => [c.deviceId, c.secret]));
    expect(devices.count()).toBe(2318);
    const stored = db.prepare('SELECT secret_hash FROM devices WHERE id = ?').get('mingren-01-gw') as { secret_hash: string };
    expect(stored.secret_hash).toMatch(/^hmac-sha256\$v1\$[0-9a-f]{64}$/);
    expect(stored.secret_hash).not.toContain(firstSecrets.get('mingren-01-gw'));
    // The secret it was given authenticates it as itself: the gateway of mingren-01.
    expect(listed('mingren-01-gw')).toMatchObject({ kind: 'gateway', communityId: 'mingren-01' });
    expect(await devices.authenticate('mingren-01-gw', firstSecrets.get('mingren-01-gw')!)).toMatchObject(listed('mingren-01-gw'));
    // 62 communities have no valve at all: the hand-watered ones.
    expect(count(`SELECT count(*) AS n FROM communities c WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.community_id = c.id AND d.kind = 'valve')`)).toBe(62);
  });

  it('writes nothing when the same file is imported again', async () => {
    const [before, version] = [totalChanges(), dataVersion()];
    const { report, credentials } = await inventory.importInventory(city());
    expect(report.totals).toEqual({ inserted: 0, updated: 0, retired: 0, deleted: 0 });
    expect(report.changes).toEqual([]);
    expect(report.rowsWritten).toBe(0);
    expect(credentials).toEqual([]);
    expect(totalChanges()).toBe(before);
    expect(dataVersion()).toBe(version);
  });

  it('exports the file it imported, byte for byte', () => {
    expect(formatInventory(inventory.exportInventory())).toBe(body(CITY));
  });

  it('updates exactly the one zone that changed', async () => {
    const changed = edit((doc) => {
      const zone = communitiesOf(doc).find((c) => c.id === 'haiming-07')!.zones[1];
      zone.plant = zone.plant === 'lawn' ? 'hedge' : 'lawn';
    });
    const before = totalChanges();
    const { report } = await inventory.importInventory(changed);
    expect(report.totals).toEqual({ inserted: 0, updated: 1, retired: 0, deleted: 0 });
    expect(report.changes).toEqual([{ table: 'zones', key: 'haiming-07-z2', action: 'updated', columns: ['plant'] }]);
    expect(report.rowsWritten).toBe(1);
    expect(totalChanges() - before).toBe(1);
    // The hot path sees the new plant on the zone's soil sensors.
    expect(devices.get('haiming-07-z2-s1')?.plant).toBe(changed.districts.flatMap((d) => d.subDistricts).flatMap((s) => s.communities)
      .find((c) => c.id === 'haiming-07')!.zones[1]!.plant);
  });

  it('round-trips: export → import → export is identical and the import writes nothing', async () => {
    const first = formatInventory(inventory.exportInventory());
    const { report } = await inventory.importInventory(read(first));
    expect(report.rowsWritten).toBe(0);
    expect(formatInventory(inventory.exportInventory())).toBe(first);
    await inventory.importInventory(city()); // back to the committed file for the next tests
  });

  it('moves a dev EUI from one device to another in one import', async () => {
    const swapped = edit((doc) => {
      const devs = communitiesOf(doc).find((c) => c.id === 'xinli-03')!.devices as Doc[];
      const [a, b] = [devs[1]!, devs[2]!];
      [a.devEui, b.devEui] = [b.devEui, a.devEui];
    });
    const { report } = await inventory.importInventory(swapped);
    expect(report.totals).toEqual({ inserted: 0, updated: 2, retired: 0, deleted: 0 });
    await inventory.importInventory(city());
  });

  it('binds LoRaWAN devices to their application, round-trips the binding, and unbinds when the file drops it', async () => {
    const APP = 'greenspace-soil@ttn';
    const bound = edit((doc) => {
      for (const d of communitiesOf(doc).find((c) => c.id === 'xinli-03')!.devices as Doc[]) if (d.devEui && d.kind !== 'gateway') d.lorawanApplication = APP;
    });
    const ids = communitiesOf(bound).find((c) => c.id === 'xinli-03')!.devices.filter((d: Doc) => d.lorawanApplication).map((d: Doc) => d.id as string).sort();
    expect(ids.length).toBeGreaterThan(1);
    const { report } = await inventory.importInventory(bound);
    expect(report.changes).toEqual(ids.map((key: string) => ({ table: 'devices', key, action: 'updated', columns: ['lorawan_application'] })));
    expect(devices.get(ids[0]!)?.lorawanApplication).toBe(APP); // the ingest's index sees it at once

    const exported = formatInventory(inventory.exportInventory());
    expect(exported).toContain(`lorawanApplication: ${APP}`);
    expect((await inventory.importInventory(read(exported))).report.rowsWritten).toBe(0);
    expect(formatInventory(inventory.exportInventory())).toBe(exported);
    expect(formatInventory(inventory.exportInventory(), 'json')).toContain(`"lorawanApplication": "${APP}"`);

    const unbound = await inventory.importInventory(city());
    expect(unbound.report.totals).toEqual({ inserted: 0, updated: ids.length, retired: 0, deleted: 0 });
    expect(devices.get(ids[0]!)?.lorawanApplication).toBeUndefined();
    expect(formatInventory(inventory.exportInventory())).toBe(body(CITY));
  });

  it('retires a community the file no longer lists, and brings it back with the same secrets', async () => {
    const gone = 'yuanqu-05';
    const without = edit((doc) => {
      for (const d of doc.districts) for (const s of d.subDistricts) s.communities = s.communities.filter((c: Doc) => c.id !== gone);
      for (const t of doc.teams) t.communities = t.communities.filter((c: string) => c !== gone);
    });
    const ids = (db.prepare('SELECT id, secret_hash FROM devices WHERE community_id = ?').all(gone) as Array<{ id: string; secret_hash: string }>);
    expect(ids.length).toBeGreaterThan(0);
    removed.length = 0;
    const { report } = await inventory.importInventory(without);
    expect(removed.sort()).toEqual(ids.map((d) => d.id).sort()); // the broker is told to drop them
    expect(report.tables.communities).toEqual({ inserted: 0, updated: 0, retired: 1, deleted: 0 });
    expect(report.tables.devices?.retired).toBe(ids.length);
    expect(report.tables.team_communities?.deleted).toBe(1);
    expect(devices.get(ids[0]!.id)).toBeUndefined();
    expect(await devices.authenticate(ids[0]!.id, firstSecrets.get(ids[0]!.id)!)).toBeUndefined();
    expect(inventory.exportInventory().districts.flatMap((d) => d.subDistricts).flatMap((s) => s.communities).some((c) => c.id === gone)).toBe(false);

    const back = await inventory.importInventory(city());
    expect(back.credentials).toEqual([]);
    expect(back.report.tables.devices?.updated).toBe(ids.length);
    const after = db.prepare('SELECT id, secret_hash FROM devices WHERE community_id = ?').all(gone);
    expect(after).toEqual(ids);
    // Back with its old secret and its old place (community, zone or facility, gateway).
    expect(await devices.authenticate(ids[0]!.id, firstSecrets.get(ids[0]!.id)!)).toMatchObject({ ...listed(ids[0]!.id), communityId: gone });
    expect(formatInventory(inventory.exportInventory())).toBe(body(CITY));
  });

  it('with prune, deletes what the file no longer lists', async () => {
    const without = edit((doc) => {
      const c = communitiesOf(doc).find((x) => x.id === 'xinxing-16')!;
      c.facilities = [];
      c.devices = c.devices.filter((d: Doc) => d.kind !== 'tilt');
    });
    const facilities = count(`SELECT count(*) AS n FROM facilities WHERE community_id = 'xinxing-16'`);
    const { report } = await inventory.importInventory(without, { prune: true });
    expect(report.tables.facilities).toEqual({ inserted: 0, updated: 0, retired: 0, deleted: facilities });
    expect(report.tables.devices).toEqual({ inserted: 0, updated: 0, retired: 0, deleted: facilities });
    expect(count(`SELECT count(*) AS n FROM facilities WHERE community_id = 'xinxing-16'`)).toBe(0);
    const { credentials } = await inventory.importInventory(city());
    expect(credentials).toHaveLength(facilities); // deleted devices are new devices again
  });

  it('rolls a prune back whole when a row outside the inventory still points at what it would delete', async () => {
    db.exec('CREATE TABLE other_feature (device_id TEXT NOT NULL REFERENCES devices(id))');
    db.prepare('INSERT INTO other_feature (device_id) VALUES (?)').run('yuanqu-20-gw');
    const without = edit((doc) => {
      const c = communitiesOf(doc).find((x) => x.id === 'yuanqu-20')!;
      c.devices = c.devices.map((d: Doc) => ({ ...d, gateway: undefined })).filter((d: Doc) => d.id !== 'yuanqu-20-gw');
    });
    const version = dataVersion();
    await expect(inventory.importInventory(without, { prune: true })).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('nothing was changed') });
    expect(dataVersion()).toBe(version); // rolled back: nothing committed
    expect((db.prepare('SELECT gateway_id FROM devices WHERE id = ?').get('yuanqu-20-z1-s1') as { gateway_id: string }).gateway_id).toBe('yuanqu-20-gw');
    expect(devices.get('yuanqu-20-gw')).toMatchObject({ ...listed('yuanqu-20-gw'), kind: 'gateway', communityId: 'yuanqu-20' });
    // Retiring instead keeps the row the other feature needs.
    const { report } = await inventory.importInventory(without);
    expect(report.changes).toContainEqual({ table: 'devices', key: 'yuanqu-20-gw', action: 'retired' });
    db.exec('DELETE FROM other_feature');
    await inventory.importInventory(city());
  });

  it('serves zones, facilities, teams and gateways through the read port', () => {
    const port = createCityRegistry(db);
    const inv = city();
    const communities = inv.districts.flatMap((d) => d.subDistricts.flatMap((s) => s.communities.map((c) => ({ district: d.id, sub: s.id, c }))));
    const auto = communities.flatMap(({ district, c }) => c.zones.filter((z) => z.mode === 'automatic').map((z) => ({ district, c, z })))[0]!;
    expect(port.getZone(auto.z.id)).toEqual({
      id: auto.z.id, communityId: auto.c.id, districtId: auto.district, name: auto.z.name, plant: auto.z.plant, mode: 'automatic', soil: auto.z.soil,
      valveId: auto.z.valve, ...(auto.z.band ? { band: auto.z.band } : {}), ...(auto.z.windows ? { windows: auto.z.windows } : {}),
    });
    expect(port.listZones()).toHaveLength(742);
    expect(port.listZones({ communityId: auto.c.id }).map((z) => z.id)).toEqual(auto.c.zones.map((z) => z.id));
    expect(port.getZone('no-such-zone')).toBeUndefined();

    const withFacility = communities.find(({ c }) => c.facilities.some((f) => f.baseline && f.location?.description))!;
    const f = withFacility.c.facilities.find((x) => x.baseline && x.location?.description)!;
    expect(port.getFacility(f.id)).toMatchObject({ id: f.id, communityId: withFacility.c.id, districtId: withFacility.district, subDistrictId: withFacility.sub, type: f.type, location: f.location, baseline: f.baseline });
    expect(port.listFacilities()).toHaveLength(600);

    const team = inv.teams.find((t) => t.communities.includes(auto.c.id))!;
    expect(port.teamsFor(auto.c.id)).toEqual([team]);
    expect(port.teamsFor('nowhere')).toEqual([]);
    expect(port.getCommunity(auto.c.id)).toEqual({ id: auto.c.id, name: auto.c.name, districtId: auto.district, subDistrictId: communities.find((x) => x.c.id === auto.c.id)!.sub });

    const soil = auto.c.devices.find((d) => d.kind === 'soil')!;
    expect(devices.get(soil.id)).toMatchObject({ subDistrictId: communities.find((x) => x.c.id === auto.c.id)!.sub, gatewayId: `${auto.c.id}-gw`, zoneId: soil.zone, districtId: auto.district });
  });
});
