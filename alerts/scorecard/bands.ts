import type { MoistureBand } from '../../contracts/zone.ts';
import type { PlantType } from '../../contracts/device.ts';

/**
 * Default moisture bands (volumetric water content, %) per plant type, used when a zone
 * has no override (zones.moisture_low / moisture_high). Loam-soil values from common
 * landscape-irrigation practice: lawns and ground cover are shallow-rooted and want the
 * wettest band; trees, deep-rooted, tolerate the driest. The irrigation work may publish
 * its own table; pass it to the scorecard in place of this one.
 */
export const DEFAULT_BANDS: Record<PlantType, MoistureBand> = {
  trees: { low: 18, high: 32 },
  shrubs: { low: 20, high: 34 },
  hedge: { low: 20, high: 34 },
  ground_cover: { low: 24, high: 38 },
  lawn: { low: 25, high: 40 },
};

export function bandFor(plant: string, low: number | null, high: number | null, table: Record<string, MoistureBand> = DEFAULT_BANDS): MoistureBand {
  const byPlant = table[plant] ?? DEFAULT_BANDS.shrubs;
  return { low: low ?? byPlant.low, high: high ?? byPlant.high };
}
