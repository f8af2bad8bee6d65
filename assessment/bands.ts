import { DEFAULT_MOISTURE_BANDS, DEFAULT_SOIL_OFFSET, fao56Band, SoilType, type MoistureBand } from '../contracts/zone.ts';
import { PlantType } from '../contracts/device.ts';

/** The plant-type table (contracts/zone.ts): used only when a deployment passes its own. */
export const DEFAULT_BANDS: Record<PlantType, MoistureBand> = DEFAULT_MOISTURE_BANDS;

/**
 * The band the scorecard measures a zone against, as the irrigation rules resolve it
 * (rules/irrigation/settings.ts resolveBand): the zone's own ends, else the deployment's
 * table shifted for the soil when one is given, else the FAO-56 band of its plant on its soil
 * (an unknown plant counts as shrubs, an unknown soil as loam).
 */
export function bandFor(plant: string, low: number | null, high: number | null, table?: Record<string, MoistureBand>, soil?: string): MoistureBand {
  const p = PlantType.safeParse(plant).data ?? 'shrubs';
  const s = SoilType.safeParse(soil).data ?? 'loam';
  const offset = DEFAULT_SOIL_OFFSET[s];
  const byPlant = table ? { low: (table[p] ?? DEFAULT_BANDS.shrubs).low + offset, high: (table[p] ?? DEFAULT_BANDS.shrubs).high + offset } : fao56Band(p, s);
  return { low: low ?? byPlant.low, high: high ?? byPlant.high };
}
