import { SoilType, type MoistureBand } from '../contracts/zone.ts';
import { PlantType } from '../contracts/device.ts';
import { resolveBand, type IrrigationSettings } from '../rules/irrigation/settings.ts';

/** What of the deployment's irrigation settings decides a band: its own plant-type table and soil offsets, when it sets them. */
export type BandSettings = Pick<IrrigationSettings, 'bands' | 'soilOffset'>;

/**
 * The band the scorecard measures a zone against: the one irrigation waters it to, by the
 * same function (rules/irrigation/settings.ts resolveBand) over the same deployment settings.
 * A zone's own band counts when it has both ends, as the irrigation zone source reads it
 * (irrigation/zone-source.ts); an unknown plant counts as shrubs, an unknown soil as loam, so
 * a zone irrigation refuses is still measured.
 */
export function bandFor(zone: { plant: string; soil: string; low: number | null; high: number | null }, settings: BandSettings = {}): MoistureBand {
  const plant = PlantType.safeParse(zone.plant).data ?? 'shrubs';
  const soil = SoilType.safeParse(zone.soil).data ?? 'loam';
  const band = zone.low !== null && zone.high !== null ? { low: zone.low, high: zone.high } : undefined;
  return resolveBand({ plant, soil, band }, settings);
}
