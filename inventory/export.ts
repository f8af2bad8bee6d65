import { stringify } from 'yaml';
import type { Db } from '../registry/db.ts';
import {
  INVENTORY_VERSION, type Inventory, type InventoryCommunity, type InventoryDevice, type InventoryFacility, type InventoryZone,
} from '../contracts/inventory.ts';
import type { Team } from '../contracts/team.ts';
import { decodeQuietHours } from '../registry/team-quiet-hours.ts';

type R = Record<string, string | number | null>;
const opt = <K extends string, V>(key: K, value: V | null | undefined): Partial<Record<K, V>> =>
  (value === null || value === undefined ? {} : ({ [key]: value } as Record<K, V>));

/**
 * The live registry (retired rows left out) as an inventory document, every list sorted
 * by id: the same registry always exports byte for byte the same file.
 */
export function exportInventory(db: Db): Inventory {
  const all = (sql: string): R[] => db.prepare(sql).all() as R[];
  const live = (table: string) => all(`SELECT * FROM ${table} WHERE retired_at IS NULL ORDER BY id`);
  const group = (rows: R[], by: string) => {
    const out = new Map<string, R[]>();
    for (const row of rows) {
      const k = row[by];
      if (typeof k !== 'string') continue;
      const list = out.get(k) ?? [];
      list.push(row);
      out.set(k, list);
    }
    return out;
  };

  const subDistricts = live('sub_districts');
  const communities = live('communities');
  const zones = group(live('zones'), 'community_id');
  const facilities = group(live('facilities'), 'community_id');
  const devices = group(all(`
    SELECT d.*, COALESCE(z.community_id, f.community_id, d.community_id) AS place
      FROM devices d LEFT JOIN zones z ON z.id = d.zone_id LEFT JOIN facilities f ON f.id = d.facility_id
     WHERE d.retired_at IS NULL ORDER BY d.id`), 'place');
  const bySub = group(communities.filter((c) => c.sub_district_id !== null), 'sub_district_id');
  // Communities made by a bare device registration have no sub-district yet: they export
  // under a placeholder one, which the next import makes real.
  const orphans = group(communities.filter((c) => c.sub_district_id === null), 'district_id');

  const community = (c: R): InventoryCommunity => ({
    id: String(c.id),
    name: String(c.name),
    zones: (zones.get(String(c.id)) ?? []).map(zone),
    facilities: (facilities.get(String(c.id)) ?? []).map(facility),
    devices: (devices.get(String(c.id)) ?? []).map(device),
  });

  const districts = live('districts').map((d) => {
    const subs = subDistricts.filter((s) => s.district_id === d.id)
      .map((s) => ({ id: String(s.id), name: String(s.name), communities: (bySub.get(String(s.id)) ?? []).map(community) }));
    const loose = orphans.get(String(d.id));
    if (loose) subs.push({ id: `${String(d.id)}-unassigned`, name: 'unassigned', communities: loose.map(community) });
    return { id: String(d.id), name: String(d.name), subDistricts: subs };
  });

  const members = group(all('SELECT team_id, community_id FROM team_communities ORDER BY community_id'), 'team_id');
  const technicians = group(live('technicians'), 'team_id');
  const teams: Team[] = live('teams').map((t) => ({
    id: String(t.id),
    name: String(t.name),
    communities: (members.get(String(t.id)) ?? []).map((m) => String(m.community_id)),
    channels: JSON.parse(String(t.channels)) as Team['channels'],
    supervisorChannels: JSON.parse(String(t.supervisor_channels)) as Team['supervisorChannels'],
    technicians: (technicians.get(String(t.id)) ?? []).map((p) => ({ id: String(p.id), name: String(p.name), ...opt('phone', p.phone as string | null), ...opt('email', p.email as string | null) })),
    ...decodeQuietHours(t.quiet_hours),
  }));

  return { version: INVENTORY_VERSION, districts, teams };
}

function zone(z: R): InventoryZone {
  return {
    id: String(z.id),
    name: String(z.name),
    plant: z.plant as InventoryZone['plant'],
    mode: z.mode as InventoryZone['mode'],
    soil: z.soil as InventoryZone['soil'],
    ...(z.moisture_low !== null && z.moisture_high !== null ? { band: { low: Number(z.moisture_low), high: Number(z.moisture_high) } } : {}),
    ...opt('valve', z.valve_id as string | null),
    ...(z.windows !== null ? { windows: JSON.parse(String(z.windows)) as string[] } : {}),
    ...opt('areaM2', z.area_m2 as number | null),
    ...opt('rootDepthMm', z.root_depth_mm as number | null),
    ...opt('flowLpm', z.flow_lpm as number | null),
  };
}

function facility(f: R): InventoryFacility {
  const location = { ...opt('lat', f.lat as number | null), ...opt('lon', f.lon as number | null), ...opt('description', f.location as string | null) };
  return {
    id: String(f.id),
    name: String(f.name),
    type: f.type as InventoryFacility['type'],
    ...(Object.keys(location).length > 0 ? { location } : {}),
    ...(f.baseline_pitch !== null && f.baseline_roll !== null ? { baseline: { pitch: Number(f.baseline_pitch), roll: Number(f.baseline_roll) } } : {}),
    ...(f.tilt_warning_deg !== null && f.tilt_critical_deg !== null
      ? { thresholds: { warningDeg: Number(f.tilt_warning_deg), criticalDeg: Number(f.tilt_critical_deg) } } : {}),
  };
}

function device(d: R): InventoryDevice {
  return {
    id: String(d.id),
    kind: d.kind as InventoryDevice['kind'],
    ...opt('devEui', d.dev_eui as string | null),
    ...opt('lorawanApplication', d.lorawan_application as string | null),
    ...opt('profile', d.profile as string | null),
    reportIntervalS: Number(d.report_interval_s),
    ...opt('zone', d.zone_id as string | null),
    ...opt('facility', d.facility_id as string | null),
    ...opt('gateway', d.gateway_id as string | null),
  };
}

/** The document as text: YAML for people (the default), JSON for programs. */
export function formatInventory(inv: Inventory, format: 'yaml' | 'json' = 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(inv, null, 2)}\n` : stringify(inv, { lineWidth: 0, aliasDuplicateObjects: false });
}
