import type { Logger } from '../lib/logger.ts';
import type { FacilityConfig } from '../contracts/inventory.ts';
import { resolveThresholds, thresholdsFor, type FacilityRuleConfig, type FacilityThresholds } from '../rules/facility-health/thresholds.ts';

/** Where facilities' own thresholds come from: the city registry (SQLite), read whole. */
export interface FacilitySource {
  listFacilities(): ReadonlyArray<Pick<FacilityConfig, 'id' | 'type' | 'thresholds'>>;
}

export type FacilityThresholdCache = ReturnType<typeof createFacilityThresholdCache>;

/**
 * Each facility's effective tilt thresholds, for the health monitor's per-reading path:
 * one Map lookup, no SQLite and no parsing. The cache holds only the facilities with an
 * inventory override (resolved once over their type's defaults); every other facility gets
 * its type's thresholds, the config's own object. It is read whole at start and again by
 * `refresh()`, which app.ts calls after every inventory import that wrote rows — the only
 * writer of the override columns — so an import takes effect from the next reading.
 * A failed refresh keeps the previous thresholds and is logged: the rules never stop.
 */
export function createFacilityThresholdCache(deps: { source: FacilitySource; config: FacilityRuleConfig; logger: Logger }) {
  const log = deps.logger.child({ module: 'facility-thresholds' });
  const load = (): Map<string, FacilityThresholds> => {
    const next = new Map<string, FacilityThresholds>();
    for (const f of deps.source.listFacilities()) {
      if (f.thresholds) next.set(f.id, resolveThresholds(deps.config, f.type, f.thresholds));
    }
    return next;
  };
  let own = load();

  return {
    /** The thresholds the rules judge this facility by; `type` is the facility type the device carries. */
    of(facilityId: string | undefined, type: string | undefined): FacilityThresholds {
      return (facilityId === undefined ? undefined : own.get(facilityId)) ?? thresholdsFor(deps.config, type);
    },
    /** Whether the facility has angles of its own (the inventory's) or goes by its type's. */
    sourceOf: (facilityId: string): 'facility' | 'type' => (own.has(facilityId) ? 'facility' : 'type'),
    /** Re-read every facility's overrides (after an inventory import). */
    refresh(): void {
      try {
        const before = own.size;
        own = load();
        log.debug({ overrides: own.size, before }, 'facility thresholds reloaded');
      } catch (error) {
        log.error({ err: error }, 'facility thresholds not reloaded; the previous ones stay in force');
      }
    },
    /** Facilities with thresholds of their own. */
    overrides: (): number => own.size,
  };
}
