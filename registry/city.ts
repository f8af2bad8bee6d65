import type { Db } from './db.ts';
import type { ZoneConfig } from '../contracts/zone.ts';
import type { CommunityInfo, FacilityConfig } from '../contracts/inventory.ts';
import type { Team } from '../contracts/team.ts';
import { decodeQuietHours } from './team-quiet-hours.ts';

type R = Record<string, string | number | null>;
const opt = <K extends string, V>(key: K, value: V | null | undefined): Partial<Record<K, V>> =>
  (value === null || value === undefined ? {} : ({ [key]: value } as Record<K, V>));

const ZONES = `
  SELECT z.*, c.district_id FROM zones z JOIN communities c ON c.id = z.community_id
   WHERE z.retired_at IS NULL`;
const FACILITIES = `
  SELECT f.*, c.district_id, c.sub_district_id FROM facilities f JOIN communities c ON c.id = f.community_id
   WHERE f.retired_at IS NULL`;

const toZone = (z: R): ZoneConfig => ({
  id: String(z.id),
  communityId: String(z.community_id),
  districtId: String(z.district_id),
  name: String(z.name),
  plant: z.plant as ZoneConfig['plant'],
  mode: z.mode as ZoneConfig['mode'],
  soil: z.soil as ZoneConfig['soil'],
  ...(z.moisture_low !== null && z.moisture_high !== null ? { band: { low: Number(z.moisture_low), high: Number(z.moisture_high) } } : {}),
  ...opt('valveId', z.valve_id as string | null),
  ...(z.windows !== null ? { windows: JSON.parse(String(z.windows)) as string[] } : {}),
});

const toFacility = (f: R): FacilityConfig => {
  const location = { ...opt('lat', f.lat as number | null), ...opt('lon', f.lon as number | null), ...opt('description', f.location as string | null) };
  return {
    id: String(f.id),
    communityId: String(f.community_id),
    districtId: String(f.district_id),
    ...opt('subDistrictId', f.sub_district_id as string | null),
    name: String(f.name),
    type: f.type as FacilityConfig['type'],
    ...(Object.keys(location).length > 0 ? { location } : {}),
    ...(f.baseline_pitch !== null && f.baseline_roll !== null ? { baseline: { pitch: Number(f.baseline_pitch), roll: Number(f.baseline_roll) } } : {}),
    ...(f.tilt_warning_deg !== null && f.tilt_critical_deg !== null
      ? { thresholds: { warningDeg: Number(f.tilt_warning_deg), criticalDeg: Number(f.tilt_critical_deg) } } : {}),
  };
};

export type CityRegistry = ReturnType<typeof createCityRegistry>;

/**
 * The read port other features use for places and teams (irrigation, facility health,
 * device health, notifications). Live rows only: retired ones are out of service.
 * Each call reads SQLite (microseconds with prepared statements), so it never goes stale
 * after an import or a calibration.
 */
export function createCityRegistry(db: Db) {
  const zone = db.prepare(`${ZONES} AND z.id = ?`);
  const zones = db.prepare(`${ZONES} ORDER BY z.id`);
  const zonesIn = db.prepare(`${ZONES} AND z.community_id = ? ORDER BY z.id`);
  const facility = db.prepare(`${FACILITIES} AND f.id = ?`);
  const facilities = db.prepare(`${FACILITIES} ORDER BY f.id`);
  const community = db.prepare('SELECT id, name, district_id, sub_district_id FROM communities WHERE retired_at IS NULL AND id = ?');
  const communities = db.prepare('SELECT id, name, district_id, sub_district_id FROM communities WHERE retired_at IS NULL ORDER BY id');
  const teams = db.prepare(`
    SELECT t.* FROM teams t JOIN team_communities tc ON tc.team_id = t.id
     WHERE tc.community_id = ? AND t.retired_at IS NULL ORDER BY t.id`);
  const teamCommunities = db.prepare('SELECT community_id FROM team_communities WHERE team_id = ? ORDER BY community_id');
  const technicians = db.prepare('SELECT id, name, phone, email FROM technicians WHERE team_id = ? AND retired_at IS NULL ORDER BY id');

  const toCommunity = (c: R): CommunityInfo => ({
    id: String(c.id), name: String(c.name), districtId: String(c.district_id), ...opt('subDistrictId', c.sub_district_id as string | null),
  });
  const toTeam = (t: R): Team => ({
    id: String(t.id),
    name: String(t.name),
    communities: (teamCommunities.all(t.id) as R[]).map((r) => String(r.community_id)),
    channels: JSON.parse(String(t.channels)) as Team['channels'],
    supervisorChannels: JSON.parse(String(t.supervisor_channels)) as Team['supervisorChannels'],
    technicians: (technicians.all(t.id) as R[]).map((p) => ({ id: String(p.id), name: String(p.name), ...opt('phone', p.phone as string | null), ...opt('email', p.email as string | null) })),
    ...decodeQuietHours(t.quiet_hours),
  });

  return {
    getZone: (id: string): ZoneConfig | undefined => {
      const row = zone.get(id) as R | undefined;
      return row && toZone(row);
    },
    listZones: (filter: { communityId?: string } = {}): ZoneConfig[] =>
      ((filter.communityId ? zonesIn.all(filter.communityId) : zones.all()) as R[]).map(toZone),
    getFacility: (id: string): FacilityConfig | undefined => {
      const row = facility.get(id) as R | undefined;
      return row && toFacility(row);
    },
    listFacilities: (): FacilityConfig[] => (facilities.all() as R[]).map(toFacility),
    getCommunity: (id: string): CommunityInfo | undefined => {
      const row = community.get(id) as R | undefined;
      return row && toCommunity(row);
    },
    listCommunities: (): CommunityInfo[] => (communities.all() as R[]).map(toCommunity),
    /** The teams answering for a community: where its notifications go. */
    teamsFor: (communityId: string): Team[] => (teams.all(communityId) as R[]).map(toTeam),
  };
}
