import type { Inventory } from '../contracts/inventory.ts';
import { encodeQuietHours } from '../registry/team-quiet-hours.ts';
import type { DesiredRows, Row } from './tables.ts';

const nul = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

/**
 * The registry rows an inventory describes. Every entity row is desired live
 * (retired_at NULL), so a row that comes back into the file is un-retired by the diff.
 */
export function inventoryToRows(inv: Inventory): DesiredRows {
  const rows: DesiredRows = {
    districts: [], sub_districts: [], communities: [], zones: [], facilities: [], devices: [], teams: [], team_communities: [], technicians: [],
  };
  for (const d of inv.districts) {
    rows.districts.push({ id: d.id, name: d.name, retired_at: null });
    for (const s of d.subDistricts) {
      rows.sub_districts.push({ id: s.id, district_id: d.id, name: s.name, retired_at: null });
      for (const c of s.communities) {
        rows.communities.push({ id: c.id, district_id: d.id, sub_district_id: s.id, name: c.name, retired_at: null });
        for (const z of c.zones) {
          rows.zones.push({
            id: z.id, community_id: c.id, name: z.name, plant: z.plant, mode: z.mode, soil: z.soil,
            moisture_low: nul(z.band?.low), moisture_high: nul(z.band?.high), valve_id: nul(z.valve),
            windows: z.windows ? JSON.stringify(z.windows) : null,
            area_m2: nul(z.areaM2), root_depth_mm: nul(z.rootDepthMm), flow_lpm: nul(z.flowLpm), retired_at: null,
          });
        }
        for (const f of c.facilities) {
          const row: Row = {
            id: f.id, community_id: c.id, name: f.name, type: f.type,
            lat: nul(f.location?.lat), lon: nul(f.location?.lon), location: nul(f.location?.description),
            tilt_warning_deg: nul(f.thresholds?.warningDeg), tilt_critical_deg: nul(f.thresholds?.criticalDeg), retired_at: null,
          };
          // Omitted baseline: keep the registry's (a calibrate call may have set it).
          if (f.baseline) Object.assign(row, { baseline_pitch: f.baseline.pitch, baseline_roll: f.baseline.roll });
          rows.facilities.push(row);
        }
        for (const x of c.devices) {
          rows.devices.push({
            id: x.id, kind: x.kind, community_id: c.id, zone_id: nul(x.zone), facility_id: nul(x.facility),
            dev_eui: x.devEui ? x.devEui.toLowerCase() : null, lorawan_application: nul(x.lorawanApplication), profile: nul(x.profile), report_interval_s: x.reportIntervalS, gateway_id: nul(x.gateway), retired_at: null,
          });
        }
      }
    }
  }
  for (const t of inv.teams) {
    rows.teams.push({
      id: t.id, name: t.name, channels: JSON.stringify(t.channels), supervisor_channels: JSON.stringify(t.supervisorChannels),
      quiet_hours: encodeQuietHours(t.quietHours), retired_at: null,
    });
    for (const c of new Set(t.communities)) rows.team_communities.push({ team_id: t.id, community_id: c });
    for (const p of t.technicians) {
      rows.technicians.push({ id: p.id, team_id: t.id, name: p.name, phone: nul(p.phone), email: nul(p.email), retired_at: null });
    }
  }
  return rows;
}
