import type { Db } from '../registry/db.ts';
import type { Angles } from '../rules/facility-health/decide-facility.ts';

export interface FacilityRow { id: string; name: string; communityId: string; districtId: string; type: string; baselinePitch: number | null; baselineRoll: number | null }

/**
 * Facility baselines live in the registry's facilities table. After a write, every device
 * on the facility is re-read into the registry cache, so the ingest's derived `tilt` field
 * and the detectors use the new baseline from the next reading on.
 */
export function createFacilityBaselines(db: Db, registry: { refresh(id: string): unknown }) {
  return {
    get: (facilityId: string): FacilityRow | undefined =>
      db.prepare(`SELECT f.id, f.name, f.community_id AS communityId, c.district_id AS districtId, f.type, f.baseline_pitch AS baselinePitch, f.baseline_roll AS baselineRoll
        FROM facilities f JOIN communities c ON c.id = f.community_id WHERE f.id = ?`).get(facilityId) as FacilityRow | undefined,
    save(facilityId: string, baseline: Angles): boolean {
      const changed = db.prepare('UPDATE facilities SET baseline_pitch = ?, baseline_roll = ? WHERE id = ?').run(baseline.pitch, baseline.roll, facilityId).changes > 0;
      if (changed) {
        for (const row of db.prepare('SELECT id FROM devices WHERE facility_id = ?').all(facilityId) as Array<{ id: string }>) registry.refresh(row.id);
      }
      return changed;
    },
  };
}
export type FacilityBaselines = ReturnType<typeof createFacilityBaselines>;
