import { DEFAULT_MOISTURE_BANDS, DEFAULT_SOIL_OFFSET, type MoistureBand, type SoilType } from '../contracts/zone.ts';
import type { PlantType } from '../contracts/device.ts';

/** The defaults the irrigation rules keep zones in (contracts/zone.ts), so the scorecard measures the same band. */
export const DEFAULT_BANDS: Record<PlantType, MoistureBand> = DEFAULT_MOISTURE_BANDS;

export function bandFor(plant: string, low: number | null, high: number | null, table: Record<string, MoistureBand> = DEFAULT_BANDS, soil?: string): MoistureBand {
  const byPlant = table[plant] ?? DEFAULT_BANDS.shrubs;
  const offset = DEFAULT_SOIL_OFFSET[soil as SoilType] ?? 0;
  return { low: low ?? byPlant.low + offset, high: high ?? byPlant.high + offset };
}
