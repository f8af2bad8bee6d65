import { ZoneConfig } from '../contracts/zone.ts';
import { validateWindow } from '../rules/irrigation/windows.ts';
import type { Db } from '../registry/db.ts';
import type { Logger } from '../lib/logger.ts';

/**
 * Where the engine reads zone configuration. A port, so the inventory work can change
 * the source (an inventory file, a cache) without touching the engine.
 */
export interface ZoneSource {
  get(zoneId: string): ZoneConfig | undefined;
  list(): ZoneConfig[];
  /** Zones of a community: rain gauges are placed per community. */
  listByCommunity(communityId: string): ZoneConfig[];
  /** The zone a valve controller waters, if any. */
  zoneOfValve(valveId: string): string | undefined;
}

interface ZoneRow {
  id: string; community_id: string; district_id: string; name: string; plant: string; mode: string; soil: string;
  moisture_low: number | null; moisture_high: number | null; valve_id: string | null; windows: string | null;
  area_m2: number | null; root_depth_mm: number | null; flow_lpm: number | null;
}

// The valve is zones.valve_id (the inventory's `valve`) or, for a zone without one (devices registered
// through the API), the zone's first valve-kind device.
const SELECT = `
  SELECT z.id, z.community_id, c.district_id, z.name, z.plant, z.mode, z.soil, z.moisture_low, z.moisture_high, z.windows, z.area_m2, z.root_depth_mm, z.flow_lpm,
         COALESCE(z.valve_id, (SELECT d.id FROM devices d WHERE d.zone_id = z.id AND d.kind = 'valve' AND d.disabled = 0 AND d.retired_at IS NULL ORDER BY d.id LIMIT 1)) AS valve_id
    FROM zones z JOIN communities c ON c.id = z.community_id
   WHERE z.retired_at IS NULL`;

/** How long a zone's configuration is reused; an inventory change applies within it. */
const ZONE_CACHE_MS = 2_000;

/** Zones from the registry's SQLite tables (migrations 001, 003 and 080). */
export function createSqliteZoneSource(db: Db, logger: Logger): ZoneSource {
  const byId = db.prepare(`${SELECT} AND z.id = ?`);
  const byCommunity = db.prepare(`${SELECT} AND z.community_id = ?`);
  const all = db.prepare(SELECT);
  const valveZone = db.prepare(`SELECT id FROM zones WHERE valve_id = ? UNION SELECT zone_id FROM devices WHERE id = ? AND kind = 'valve' AND zone_id IS NOT NULL LIMIT 1`);

  const toZone = (r: ZoneRow): ZoneConfig | undefined => {
    let windows: unknown;
    try {
      windows = r.windows ? JSON.parse(r.windows) : undefined;
    } catch {
      windows = undefined;
    }
    const parsed = ZoneConfig.safeParse({
      id: r.id, communityId: r.community_id, districtId: r.district_id, name: r.name, plant: r.plant, mode: r.mode, soil: r.soil,
      band: r.moisture_low !== null && r.moisture_high !== null ? { low: r.moisture_low, high: r.moisture_high } : undefined,
      valveId: r.valve_id ?? undefined,
      windows,
      areaM2: r.area_m2 ?? undefined, rootDepthMm: r.root_depth_mm ?? undefined, flowLpm: r.flow_lpm ?? undefined,
    });
    if (parsed.success) return checkWindows(parsed.data);
    logger.warn({ zoneId: r.id, issues: parsed.error.issues.slice(0, 3) }, 'zone configuration invalid; zone not irrigated');
    return undefined;
  };
  const many = (rows: ZoneRow[]) => rows.flatMap((r) => toZone(r) ?? []);
  // An invalid window matches nothing (never water at a wrong time); say so once per expression.
  const warned = new Set<string>();
  const checkWindows = (zone: ZoneConfig | undefined): ZoneConfig | undefined => {
    for (const w of zone?.windows ?? []) {
      if (warned.has(w)) continue;
      try {
        validateWindow(w);
      } catch (error) {
        warned.add(w);
        logger.warn({ zoneId: zone?.id, window: w, err: (error as Error).message }, 'zone watering window is not a cron expression; it matches nothing');
      }
    }
    return zone;
  };

  // Every soil reading asks for its zone: keep parsed zones for a moment instead of a
  // query and a zod parse per reading (measured as a tenth of the ingest path's CPU).
  const cache = new Map<string, { zone: ZoneConfig; until: number }>();
  return {
    get: (zoneId) => {
      const now = Date.now();
      const hit = cache.get(zoneId);
      if (hit && hit.until > now) return hit.zone;
      const row = byId.get(zoneId) as ZoneRow | undefined;
      const zone = row ? toZone(row) : undefined;
      if (zone) cache.set(zoneId, { zone, until: now + ZONE_CACHE_MS });
      else cache.delete(zoneId);
      return zone;
    },
    list: () => many(all.all() as ZoneRow[]),
    listByCommunity: (communityId) => many(byCommunity.all(communityId) as ZoneRow[]),
    zoneOfValve: (valveId) => (valveZone.get(valveId, valveId) as { id: string } | undefined)?.id,
  };
}
