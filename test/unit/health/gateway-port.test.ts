import { describe, expect, it } from 'vitest';
import { openDb } from '../../../registry/db.ts';
import { createDeviceRegistry } from '../../../registry/devices.ts';
import { createHealthMonitor, gatewaysFromRegistry } from '../../../health/monitor.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createLedger, MIN } from '../alerts/helpers.ts';
import { testHasher } from '../../helpers/hasher.ts';

/**
 * The gateway port the health monitor's offline sweep uses: the device registry's own index,
 * the one the broker and ingest read (no SQLite read per silent device, no cache to expire).
 */
describe('gateway port over the device registry', () => {
  const seed = () => {
    const db = openDb(':memory:');
    db.exec(`INSERT INTO districts (id, name) VALUES ('d', 'd'); INSERT INTO communities (id, district_id, name) VALUES ('c', 'd', 'c');
      INSERT INTO devices (id, kind, secret_hash, community_id, created_at) VALUES ('gw-1', 'gateway', 'x', 'c', ''), ('s-1', 'soil', 'x', 'c', '')`);
    return db;
  };

  it('answers nothing for a device without a gateway, or one it does not know', async () => {
    const port = gatewaysFromRegistry(createDeviceRegistry(seed(), { hasher: testHasher }));
    expect(port.gatewayOf('s-1')).toBeUndefined();
    expect(port.gatewayOf('nobody')).toBeUndefined();
  });

  it('reads devices.gateway_id, and a change as soon as the registry re-reads the device (no cache to expire)', async () => {
    const db = seed();
    db.exec(`UPDATE devices SET gateway_id = 'gw-1' WHERE id = 's-1'`);
    const registry = createDeviceRegistry(db, { hasher: testHasher });
    const port = gatewaysFromRegistry(registry);
    expect(port.gatewayOf('s-1')).toBe('gw-1');
    // An inventory import re-reads every device it changed (inventory/service.ts); the old
    // lookup answered gw-1 for up to a minute after such a change.
    db.exec(`UPDATE devices SET gateway_id = 'gw-2' WHERE id = 's-1'`);
    registry.refresh('s-1');
    expect(port.gatewayOf('s-1')).toBe('gw-2');
  });

  it("is what groups a silent gateway's devices under its one alert in the sweep", async () => {
    const ledger = createLedger(':memory:', seed());
    ledger.db.exec(`INSERT INTO devices (id, kind, secret_hash, community_id, created_at, gateway_id) VALUES ('s-2', 'soil', 'x', 'c', '', 'gw-1');
      UPDATE devices SET gateway_id = 'gw-1', report_interval_s = 60 WHERE id = 's-1'; UPDATE devices SET report_interval_s = 60`);
    const registry = createDeviceRegistry(ledger.db, { hasher: testHasher });
    const monitor = createHealthMonitor({
      clock: ledger.clock, logger: createLogger('silent'), alerts: ledger.alerts, devices: registry, gateways: gatewaysFromRegistry(registry), saveBaseline: () => undefined,
    });
    ledger.clock.advance(3 * MIN + 1);
    monitor.sweep();
    await monitor.settled();
    expect((await ledger.alerts.list({ active: true })).map((a) => [a.kind, a.subject, a.details?.devices])).toEqual([['gateway_offline', 'gw-1', ['s-1', 's-2']]]);
  });
});
