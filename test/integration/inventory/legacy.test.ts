import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../registry/db.ts';
import { createDeviceRegistry, type DeviceRegistry } from '../../../registry/devices.ts';
import { createInventoryService, type InventoryService } from '../../../inventory/service.ts';
import { formatInventory } from '../../../inventory/export.ts';
import { parseInventoryText } from '../../../inventory/parse.ts';
import { testHasher } from '../../helpers/hasher.ts';

/** Devices registered one by one (POST /api/v1/devices) before anyone wrote an inventory. */
describe('adopting a registry built by device registrations', () => {
  let dir: string;
  let db: Db;
  let devices: DeviceRegistry;
  let inventory: InventoryService;
  let secret: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gs-legacy-'));
    db = openDb(join(dir, 'g.db'));
    devices = createDeviceRegistry(db, { hasher: testHasher });
    inventory = createInventoryService({ db, now: () => 0, devices, hashSecret: testHasher.hash });
    ({ secret } = await devices.register({ id: 'soil-001', kind: 'soil', devEui: 'A840410000000099', place: { district: 'taobei', community: 'c-001', zone: 'z-001', plant: 'lawn' } }));
    await devices.register({ id: 'tilt-001', kind: 'tilt', place: { district: 'taobei', community: 'c-001', facility: 'f-001', facilityType: 'bench' } });
  });
  afterAll(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports them under a placeholder sub-district; importing that export makes it real and keeps the secrets', async () => {
    const first = inventory.exportInventory();
    expect(first.districts[0]?.subDistricts.map((s) => s.id)).toEqual(['taobei-unassigned']);
    expect(first.districts[0]?.subDistricts[0]?.communities[0]?.devices.map((d) => d.id)).toEqual(['soil-001', 'tilt-001']);
    // A registered zone has no valve yet: the export is honest about it and the file must say how it is watered.
    const text = formatInventory(first).replace('mode: automatic', 'mode: manual');
    const parsed = parseInventoryText(text, 'adopted.yaml');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const { report, credentials } = await inventory.importInventory(parsed.value);
    expect(credentials).toEqual([]);
    expect(report.changes).toEqual(expect.arrayContaining([
      { table: 'sub_districts', key: 'taobei-unassigned', action: 'inserted' },
      { table: 'communities', key: 'c-001', action: 'updated', columns: ['sub_district_id'] },
      { table: 'zones', key: 'z-001', action: 'updated', columns: ['mode'] },
    ]));
    expect(formatInventory(inventory.exportInventory())).toBe(text);
    expect(await devices.authenticate('soil-001', secret)).toMatchObject({ subDistrictId: 'taobei-unassigned', devEui: 'a840410000000099' });
  });

  it('refuses to register a device id the inventory retired', async () => {
    const parsed = parseInventoryText(formatInventory(inventory.exportInventory()).replace(/ {14}- id: tilt-001\n(?: {16}.*\n)+/, ''), 'less.yaml');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const { report } = await inventory.importInventory(parsed.value);
    expect(report.changes).toEqual([{ table: 'devices', key: 'tilt-001', action: 'retired' }]);
    await expect(devices.register({ id: 'tilt-001', kind: 'tilt' })).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('retired') });
  });
});
