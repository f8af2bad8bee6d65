import { DEFAULT_ZONE_HYDRAULICS, PLANT_KC, SOIL_WATER, type MoistureBand, type ZoneConfig } from '../../contracts/zone.ts';

/** Reference ET0 assumed until the zone's own drying is learned (mm/day: a warm summer day in the Yangtze delta). */
export const PRIOR_ET0_MM_DAY = 5;

/** A zone's hydraulics: its own, else its plant type's defaults. */
export function hydraulicsOf(zone: Pick<ZoneConfig, 'plant' | 'areaM2' | 'rootDepthMm' | 'flowLpm'>) {
  const d = DEFAULT_ZONE_HYDRAULICS[zone.plant];
  return { areaM2: zone.areaM2 ?? d.areaM2, rootDepthMm: zone.rootDepthMm ?? d.rootDepthMm, flowLpm: zone.flowLpm ?? d.flowLpm };
}

/**
 * Points of volumetric moisture one litre adds to the root zone if all of it soaks in:
 * 1 L over A m² is 1/A mm of water, and d mm of root zone holds it as 100/d points per mm.
 */
export const physicalPointsPerL = (zone: Pick<ZoneConfig, 'plant' | 'areaM2' | 'rootDepthMm' | 'flowLpm'>): number => {
  const h = hydraulicsOf(zone);
  return 100 / (h.rootDepthMm * h.areaM2);
};

/** Points a day the zone loses to Kc × ET0 (FAO-56 single crop coefficient), before any is learned. */
export const priorDryPerDay = (zone: Pick<ZoneConfig, 'plant' | 'areaM2' | 'rootDepthMm' | 'flowLpm'>): number =>
  (PLANT_KC[zone.plant] * PRIOR_ET0_MM_DAY * 100) / hydraulicsOf(zone).rootDepthMm;

/**
 * Where a run aims: `share` of the band above its low, but never more than a point over the
 * soil's field capacity (water above it drains within hours: sand loses it in ~2 h, so filling
 * a sand zone to the top of a band above field capacity is water down the drain).
 */
export function targetOf(band: MoistureBand, soil: ZoneConfig['soil'], share: number): number {
  const fc = SOIL_WATER[soil].fieldCapacity;
  return Math.max(band.low + 0.5, Math.min(band.low + share * (band.high - band.low), fc + 1, band.high));
}
