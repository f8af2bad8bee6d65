import { PLANT_KC as KC, SOIL_INTAKE_MM_H, SOIL_WATER, SURFACE_STORAGE_MM, type SoilType } from '../../contracts/zone.ts';
import type { PlantType } from '../../contracts/device.ts';
import type { WeatherNow } from './weather.ts';

/**
 * Soil hydraulic properties by texture (volumetric water content, %), typical values
 * from FAO-56 table 19 and USDA texture classes: sand holds little and drains within
 * hours, clay holds much and drains over days.
 */
export const SOILS: Record<SoilType, { fieldCapacity: number; wiltingPoint: number; saturation: number; drainagePerH: number; infiltrationMmH: number; ecBase: number }> = {
  sand: { ...SOIL_WATER.sand, drainagePerH: 0.4, infiltrationMmH: SOIL_INTAKE_MM_H.sand, ecBase: 0.2 },
  loam: { ...SOIL_WATER.loam, drainagePerH: 0.12, infiltrationMmH: SOIL_INTAKE_MM_H.loam, ecBase: 0.6 },
  clay: { ...SOIL_WATER.clay, drainagePerH: 0.03, infiltrationMmH: SOIL_INTAKE_MM_H.clay, ecBase: 1.0 },
};

/** Crop coefficients: contracts/zone.ts, shared with the controller. */
export const PLANT_KC: Record<PlantType, number> = KC;

export interface SoilZone {
  soil: SoilType;
  plant: PlantType;
  /** Depth of the root zone the sensors sit in. */
  rootDepthMm: number;
}

export interface SoilInputs {
  weather: Pick<WeatherNow, 'et0MmH' | 'rainMmH'>;
  /** Water from the zone's valve over the zone's area (L/min ÷ m² × 60 = mm/h). */
  irrigationMmH: number;
  /** Water standing in the surface's depressions from before (mm); it soaks in first. */
  pondMm?: number;
}

export interface SoilStep {
  moisture: number;
  etMm: number;
  drainMm: number;
  runoffMm: number;
  /** Water left standing on the surface (mm, at most SURFACE_STORAGE_MM). */
  pondMm: number;
}

/**
 * One step of the root-zone water balance (FAO-56 chapter 8, simplified):
 * in = infiltrated rain + irrigation; out = Kc·Ks·ET0 + drainage above field capacity.
 * Ks reduces evapotranspiration once half the available water is used (p = 0.5).
 * The surface takes at most the soil's basic infiltration rate: what comes faster (a spray
 * zone at 15 mm/h on clay's 5) ponds in the surface's depressions (SURFACE_STORAGE_MM) and
 * soaks in later, and runs off once they are full — which is why cycle-and-soak works.
 */
export function stepSoil(moisture: number, zone: SoilZone, inputs: SoilInputs, dtS: number): SoilStep {
  const p = SOILS[zone.soil];
  const h = dtS / 3600;
  const depth = zone.rootDepthMm;
  const arrivingMm = (inputs.weather.rainMmH + inputs.irrigationMmH) * h + (inputs.pondMm ?? 0);
  const infiltratedMm = Math.min(arrivingMm, p.infiltrationMmH * h);
  const pondMm = Math.min(SURFACE_STORAGE_MM, arrivingMm - infiltratedMm);
  let runoffMm = arrivingMm - infiltratedMm - pondMm;
  const available = p.fieldCapacity - p.wiltingPoint;
  const ks = Math.max(0, Math.min(1, (moisture - p.wiltingPoint) / (0.5 * available)));
  const etMm = PLANT_KC[zone.plant] * ks * inputs.weather.et0MmH * h;
  const drainMm = moisture > p.fieldCapacity ? ((moisture - p.fieldCapacity) / 100) * depth * (1 - Math.exp(-p.drainagePerH * h)) : 0;
  let waterMm = (moisture / 100) * depth + infiltratedMm - etMm - drainMm;
  const maxMm = (p.saturation / 100) * depth;
  if (waterMm > maxMm) {
    runoffMm += waterMm - maxMm;
    waterMm = maxMm;
  }
  // Evaporation alone cannot take the soil below about half the wilting point.
  const minMm = ((p.wiltingPoint * 0.5) / 100) * depth;
  return { moisture: (Math.max(minMm, waterMm) / depth) * 100, etMm, drainMm, runoffMm, pondMm };
}

/** Soil temperature follows the daily mean air temperature, with the diurnal swing damped. */
export const soilTemperatureC = (weather: Pick<WeatherNow, 'airC' | 'dailyMeanC'>): number =>
  weather.dailyMeanC + 0.25 * (weather.airC - weather.dailyMeanC);

/** Bulk EC rises with water content (more dissolved salts in contact with the probe). */
export const soilEc = (moisture: number, soil: SoilType): number => SOILS[soil].ecBase * Math.max(0.05, moisture / SOILS[soil].fieldCapacity);

/** Irrigation depth rate of a valve flowing over a zone. */
export const irrigationMmH = (flowLPerMin: number, areaM2: number): number => (flowLPerMin * 60) / areaM2;
