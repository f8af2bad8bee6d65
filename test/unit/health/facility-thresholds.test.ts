import { describe, expect, it } from 'vitest';
import { createHealthMonitor } from '../../../health/monitor.ts';
import { createFacilityThresholdCache, type FacilitySource } from '../../../health/facility-thresholds.ts';
import { createFacilityBaselines } from '../../../health/facility-baselines.ts';
import { createDeviceRegistry } from '../../../registry/devices.ts';
import { createCityRegistry } from '../../../registry/city.ts';
import { createInventoryService } from '../../../inventory/service.ts';
import { createLogger } from '../../../lib/logger.ts';
import { DEFAULT_FACILITY_CONFIG } from '../../../rules/facility-health/thresholds.ts';
import type { AcceptedReading } from '../../../contracts/reading.ts';
import { Inventory } from '../../../contracts/inventory.ts';
import { createLedger, MIN } from '../alerts/helpers.ts';
import { testHasher } from '../../helpers/hasher.ts';

/** Two pavilions on the same footing; `own` gives pav-low thresholds of its own. */
const city = (own?: { warningDeg: number; criticalDeg: number }): Inventory => Inventory.parse({
  version: 1,
  districts: [{
    id: 'd-1', name: 'd', subDistricts: [{
      id: 's-1', name: 's', communities: [{
        id: 'c-1', name: 'c',
        facilities: [
          { id: 'pav-low', name: 'north pavilion', type: 'pavilion', baseline: { pitch: 0, roll: 0 }, ...(own ? { thresholds: own } : {}) },
          { id: 'pav-std', name: 'south pavilion', type: 'pavilion', baseline: { pitch: 0, roll: 0 } },
        ],
        devices: [
          { id: 't-low', kind: 'tilt', facility: 'pav-low', reportIntervalS: 60 },
          { id: 't-std', kind: 'tilt', facility: 'pav-std', reportIntervalS: 60 },
        ],
      }],
    }],
  }],
});

/**
 * The monitor as app.ts assembles it, over one real SQLite registry: the inventory service
 * imports, its onImported refreshes the cache, and the cache's source counts its reads.
 */
async function setup() {
  const ledger = createLedger();
  const devices = createDeviceRegistry(ledger.db, { hasher: testHasher });
  const inventory = createInventoryService({ db: ledger.db, now: () => ledger.clock.now(), devices, hashSecret: async (s) => `hash:${s}` });
  const registry = createCityRegistry(ledger.db);
  let reads = 0;
  const source: FacilitySource = { listFacilities: () => { reads++; return registry.listFacilities(); } };
  await inventory.importInventory(city({ warningDeg: 1, criticalDeg: 3 }));
  const cache = createFacilityThresholdCache({ source, config: DEFAULT_FACILITY_CONFIG, logger: createLogger('silent') });
  inventory.onImported(() => cache.refresh());
  const baselines = createFacilityBaselines(ledger.db, devices);
  const monitor = createHealthMonitor({
    clock: ledger.clock, logger: createLogger('silent'), alerts: ledger.alerts, devices, facilityThresholds: cache, saveBaseline: (id, b) => baselines.save(id, b),
  });
  /** One reading per device at `deg` of pitch, then a report interval later. */
  const tilt = async (deg: number) => {
    for (const id of ['t-low', 't-std']) {
      const device = devices.get(id)!;
      const now = ledger.clock.now();
      const reading: AcceptedReading = { deviceId: id, ts: now, receivedAt: now, kind: 'tilt', dedupKey: undefined, fields: { pitch: deg, roll: 0 }, source: 'native' };
      monitor.onReading(reading, device);
    }
    await monitor.settled();
    ledger.clock.advance(MIN);
  };
  const tiltAlerts = async () => (await ledger.alerts.list({ kind: 'facility_tilt' })).map((a) => [a.subject, a.severity, a.state, a.resolvedBy]);
  return { ...ledger, inventory, cache, monitor, tilt, tiltAlerts, reads: () => reads };
}

describe('facility thresholds: the inventory\'s overrides, read from memory on every reading', () => {
  it('reads the registry once at start, and never on a reading', async () => {
    const t = await setup();
    expect(t.reads()).toBe(1);
    for (let i = 0; i < 5_000; i++) await t.tilt(0.1 + (i % 7) * 0.01);
    expect(t.reads()).toBe(1);
    expect(t.cache.overrides()).toBe(1);
  });

  it('alerts a facility whose override lowers its warning angle at an angle its type\'s default lets pass', async () => {
    const t = await setup();
    for (let i = 0; i < 3; i++) await t.tilt(1.2);
    expect(await t.tiltAlerts()).toEqual([['pav-low', 'warning', 'firing', null]]);
    expect((await t.alerts.list({ kind: 'facility_tilt' }))[0]!.details).toMatchObject({ warningDeg: 1, criticalDeg: 3, tiltDeg: 1.2 });
    // 3.1°: past pav-low's own critical angle (3°), and past the type's warning (2°) for pav-std.
    for (let i = 0; i < 3; i++) await t.tilt(3.1);
    expect((await t.tiltAlerts()).sort()).toEqual([['pav-low', 'critical', 'firing', null], ['pav-std', 'warning', 'firing', null]]);
    expect(await t.alerts.list({ kind: 'facility_impact' })).toEqual([]);
  });

  it('goes back to the type\'s angles once a re-import drops the override: the alert clears and stays cleared', async () => {
    const t = await setup();
    for (let i = 0; i < 3; i++) await t.tilt(1.2);
    expect(await t.tiltAlerts()).toEqual([['pav-low', 'warning', 'firing', null]]);
    await t.inventory.importInventory(city());
    expect(t.reads()).toBe(2);
    expect(t.cache.overrides()).toBe(0);
    for (let i = 0; i < 6; i++) await t.tilt(1.2);
    expect(await t.tiltAlerts()).toEqual([['pav-low', 'warning', 'resolved', 'system']]);
    // ...and an import that changes nothing does not read the registry again.
    await t.inventory.importInventory(city());
    expect(t.reads()).toBe(2);
  });

  it('keeps the previous thresholds when a refresh fails', async () => {
    let fail = false;
    const source: FacilitySource = { listFacilities: () => { if (fail) throw new Error('database is locked'); return [{ id: 'f', type: 'bench', thresholds: { warningDeg: 2, criticalDeg: 4 } }]; } };
    const cache = createFacilityThresholdCache({ source, config: DEFAULT_FACILITY_CONFIG, logger: createLogger('silent') });
    fail = true;
    cache.refresh();
    expect(cache.of('f', 'bench')).toMatchObject({ warningDeg: 2, criticalDeg: 4, impactDeltaDeg: DEFAULT_FACILITY_CONFIG.byType.bench.impactDeltaDeg });
    expect(cache.of('other', 'bench')).toBe(DEFAULT_FACILITY_CONFIG.byType.bench);
    expect(cache.of(undefined, undefined)).toBe(DEFAULT_FACILITY_CONFIG.byType.other);
  });
});
