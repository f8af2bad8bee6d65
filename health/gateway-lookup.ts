import type { Db } from '../registry/db.ts';
import type { Clock } from '../lib/clock.ts';
import type { GatewayPort } from './monitor.ts';

/**
 * The gateway port over the registry: reads `devices.gateway_id` (added by the inventory
 * work) when the column exists, and nothing before. The map is reloaded at most once per
 * `ttlMs`, so a city-sized sweep asks SQLite once, not once per device.
 */
export function createGatewayLookup(db: Db, clock: Clock, ttlMs = 60_000): GatewayPort {
  let loadedAt = -Infinity;
  let map = new Map<string, string>();
  const load = (): void => {
    const columns = db.prepare('PRAGMA table_info(devices)').all() as Array<{ name: string }>;
    map = columns.some((c) => c.name === 'gateway_id')
      ? new Map((db.prepare('SELECT id, gateway_id AS gw FROM devices WHERE gateway_id IS NOT NULL').all() as Array<{ id: string; gw: string }>).map((r) => [r.id, r.gw]))
      : new Map();
    loadedAt = clock.now();
  };
  return {
    gatewayOf(deviceId: string): string | undefined {
      if (clock.now() - loadedAt >= ttlMs) load();
      return map.get(deviceId);
    },
  };
}
