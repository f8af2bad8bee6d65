import { z } from 'zod';
import type { Db } from './db.ts';
import { CodedError } from '../lib/errors.ts';
import { DeviceRegistration, type DeviceInfo } from '../contracts/device.ts';
import type { DeviceKind } from '../contracts/reading.ts';
import { generateSecret, type CredentialHasher } from './secrets.ts';
import { withoutCapture } from './replica/local.ts';

interface DeviceRow {
  id: string; kind: DeviceKind; dev_eui: string | null; report_interval_s: number; disabled: number;
  district_id: string | null; community_id: string | null; zone_id: string | null; plant: string | null;
  facility_id: string | null; facility_type: string | null; baseline_pitch: number | null; baseline_roll: number | null;
  secret_hash: string; sub_district_id: string | null; gateway_id: string | null; lorawan_application: string | null; profile: string | null;
}

const SELECT_DEVICES = `
  SELECT d.id, d.kind, d.dev_eui, d.report_interval_s, d.disabled, d.secret_hash,
         c.district_id, c.id AS community_id, d.zone_id, z.plant,
         d.facility_id, f.type AS facility_type, f.baseline_pitch, f.baseline_roll,
         c.sub_district_id, d.gateway_id, d.lorawan_application, d.profile
    FROM devices d
    LEFT JOIN zones z ON z.id = d.zone_id
    LEFT JOIN facilities f ON f.id = d.facility_id
    LEFT JOIN communities c ON c.id = COALESCE(z.community_id, f.community_id, d.community_id)
   WHERE d.retired_at IS NULL`; // retired by an inventory import: out of service, unknown to the broker and ingest

const toInfo = (r: DeviceRow): DeviceInfo => ({
  id: r.id,
  kind: r.kind,
  devEui: r.dev_eui ?? undefined,
  reportIntervalS: r.report_interval_s,
  disabled: r.disabled === 1,
  districtId: r.district_id ?? undefined,
  communityId: r.community_id ?? undefined,
  zoneId: r.zone_id ?? undefined,
  plant: r.plant ?? undefined,
  facilityId: r.facility_id ?? undefined,
  facilityType: r.facility_type ?? undefined,
  baselinePitch: r.baseline_pitch ?? undefined,
  baselineRoll: r.baseline_roll ?? undefined,
  subDistrictId: r.sub_district_id ?? undefined,
  gatewayId: r.gateway_id ?? undefined,
  lorawanApplication: r.lorawan_application ?? undefined,
  profile: r.profile ?? undefined,
});

export type DeviceRegistry = ReturnType<typeof createDeviceRegistry>;

/**
 * The device registry. Reads on the hot path (every MQTT message) come from an
 * in-memory index kept in step with every write; SQLite is the record. Secrets are stored
 * as keyed hashes (`hasher`, the data directory's credential key; secrets.ts says why).
 */
export function createDeviceRegistry(db: Db, deps: { hasher: CredentialHasher }) {
  const { hasher } = deps;
  const byId = new Map<string, DeviceInfo>();
  const byEui = new Map<string, DeviceInfo>();
  const hashes = new Map<string, string>();

  const index = (row: DeviceRow): DeviceInfo => {
    const info = toInfo(row);
    const previous = byId.get(info.id);
    if (previous?.devEui) byEui.delete(previous.devEui);
    byId.set(info.id, info);
    if (info.devEui) byEui.set(info.devEui, info);
    hashes.set(info.id, row.secret_hash);
    return info;
  };
  // Prepared once: an inventory import refreshes every device it touched (2,318 for the
  // city), and preparing this join each time held the event loop ~0.8 s of it.
  const selectOne = db.prepare(`${SELECT_DEVICES} AND d.id = ?`);
  const reload = (id: string): DeviceInfo => index(selectOne.get(id) as DeviceRow);
  const upgradeHash = db.prepare('UPDATE devices SET secret_hash = ? WHERE id = ? AND secret_hash = ?');
  for (const row of db.prepare(SELECT_DEVICES).all() as DeviceRow[]) index(row);

  const upsertPlace = db.transaction((reg: z.output<typeof DeviceRegistration>) => {
    const place = reg.place;
    if (!place) return;
    db.prepare('INSERT INTO districts (id, name) VALUES (?, ?) ON CONFLICT DO NOTHING').run(place.district, place.district);
    const community = db.prepare('SELECT district_id FROM communities WHERE id = ?').get(place.community) as { district_id: string } | undefined;
    if (community && community.district_id !== place.district) {
      throw new CodedError('conflict', `community ${place.community} belongs to district ${community.district_id}, not ${place.district}`);
    }
    db.prepare('INSERT INTO communities (id, district_id, name) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(place.community, place.district, place.community);
    // A zone or facility that exists already keeps its community: a place naming it under
    // another community would put the device somewhere else than the body says (and past a
    // district-scoped caller's check, which reads the body's district).
    for (const [table, id] of [['zones', place.zone], ['facilities', place.facility]] as const) {
      if (!id) continue;
      const existing = db.prepare(`SELECT community_id FROM ${table} WHERE id = ?`).get(id) as { community_id: string } | undefined;
      if (existing && existing.community_id !== place.community) {
        throw new CodedError('conflict', `${table === 'zones' ? 'zone' : 'facility'} ${id} belongs to community ${existing.community_id}, not ${place.community}`);
      }
    }
    if (place.zone) {
      db.prepare('INSERT INTO zones (id, community_id, name, plant, mode) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(place.zone, place.community, place.zone, place.plant ?? 'shrubs', place.mode ?? 'automatic');
    }
    if (place.facility) {
      db.prepare('INSERT INTO facilities (id, community_id, name, type) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(place.facility, place.community, place.facility, place.facilityType ?? 'other');
    }
  });

  return {
    get: (id: string): DeviceInfo | undefined => byId.get(id),
    getByDevEui: (devEui: string): DeviceInfo | undefined => byEui.get(devEui.toLowerCase()),
    list: (): DeviceInfo[] => [...byId.values()],
    /** The stored hash (the replication compares it to drop the live connection of a rotated secret). */
    secretHashOf: (id: string): string | undefined => hashes.get(id),
    count: (): number => byId.size,
    /** Re-read one device after another module changed its rows (lifecycle, inventory import). */
    refresh(id: string): DeviceInfo | undefined {
      const row = selectOne.get(id) as DeviceRow | undefined;
      if (row) return index(row);
      const gone = byId.get(id);
      if (gone?.devEui) byEui.delete(gone.devEui);
      byId.delete(id);
      hashes.delete(id);
      return undefined;
    },

    /** Register a device; the secret is returned once and only its hash is kept. */
    async register(input: DeviceRegistration): Promise<{ device: DeviceInfo; secret: string }> {
      const reg = DeviceRegistration.parse(input);
      if (byId.has(reg.id)) throw new CodedError('conflict', `device ${reg.id} is already registered`);
      if (db.prepare('SELECT 1 FROM devices WHERE id = ?').get(reg.id)) {
        throw new CodedError('conflict', `device ${reg.id} is retired; list it in the inventory again to bring it back with its secret`);
      }
      if (reg.devEui && byEui.has(reg.devEui)) throw new CodedError('conflict', `dev EUI ${reg.devEui} belongs to device ${byEui.get(reg.devEui)?.id}`);
      const secret = generateSecret();
      const secretHash = hasher.hash(secret);
      db.transaction(() => {
        upsertPlace(reg);
        db.prepare(
          `INSERT INTO devices (id, kind, secret_hash, community_id, zone_id, facility_id, dev_eui, lorawan_application, profile, report_interval_s, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(reg.id, reg.kind, secretHash, reg.place?.community ?? null, reg.place?.zone ?? null, reg.place?.facility ?? null,
          reg.devEui ?? null, reg.lorawanApplication ?? null, reg.profile ?? null, reg.reportIntervalS, new Date().toISOString());
      })();
      return { device: reload(reg.id), secret };
    },

    /** Whether the device's secret is checked by the keyed hash (microseconds) rather than a legacy scrypt hash (~25 ms of the thread pool). */
    hasKeyedHash: (id: string): boolean => hasher.isKeyed(hashes.get(id) ?? ''),

    /**
     * The device if the secret is right and the device is enabled; undefined otherwise. A
     * legacy scrypt hash that matched is replaced by the keyed hash, in SQLite and here (the
     * DeviceInfo object stays: nothing about the device changed, the broker's cache holds).
     */
    async authenticate(id: string, secret: string): Promise<DeviceInfo | undefined> {
      const device = byId.get(id);
      const hash = hashes.get(id);
      if (!device || !hash || device.disabled) return undefined;
      const { ok, upgrade } = await hasher.verify(secret, hash);
      if (!ok) return undefined;
      // Only over the hash just checked: a rotation while scrypt ran keeps the new secret.
      if (upgrade && hashes.get(id) === hash && withoutCapture(db, () => upgradeHash.run(upgrade, id, hash).changes) === 1) hashes.set(id, upgrade);
      return device;
    },
  };
}
