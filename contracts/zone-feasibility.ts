import { PLANT_KC, SOIL_WATER, type MoistureBand, type SoilType } from './zone.ts';
import type { PlantType } from './device.ts';

/**
 * Whether a zone can be watered as described: the one judgement the inventory import, the
 * zone settings API, the irrigation engine at run time and the evaluation share, so all four
 * say the same words about the same zone.
 */

/** Peak reference ET0 a zone must be able to hold a day of (mm/day): the drought month's hottest days reach ~7. */
export const DESIGN_ET0_MM_DAY = 7;

export type BandProblemCode = 'low_at_field_capacity' | 'high_above_saturation' | 'low_at_wilting_point';

export interface BandProblem {
  code: BandProblemCode;
  /** The band's end that is wrong. */
  field: 'low' | 'high';
  /** What is wrong and what to change, in an operator's words. */
  message: string;
}

/**
 * A band the zone's soil cannot hold. Water above field capacity drains within hours (sand
 * in ~2 h, loam in ~8), so a low at or above field capacity is never held for long, whatever
 * the controller does; no soil holds more than saturation, so a high above it is never
 * reached; and a low at or below the wilting point keeps the plants dying "in band".
 */
export function bandProblem(band: MoistureBand, soil: SoilType): BandProblem | undefined {
  const s = SOIL_WATER[soil];
  if (band.low >= s.fieldCapacity) {
    return {
      code: 'low_at_field_capacity',
      field: 'low',
      message: `low ${band.low} % is ${band.low > s.fieldCapacity ? 'above' : 'at'} ${soil}'s field capacity ${s.fieldCapacity} % (the soil drains below it within hours): lower the band's low under ${s.fieldCapacity} %, or change the soil`,
    };
  }
  if (band.high > s.saturation) {
    return {
      code: 'high_above_saturation',
      field: 'high',
      message: `high ${band.high} % is above ${soil}'s saturation ${s.saturation} % (no ${soil} holds that much water): lower the band's high to ${s.saturation} % or less, or change the soil`,
    };
  }
  if (band.low <= s.wiltingPoint) {
    return {
      code: 'low_at_wilting_point',
      field: 'low',
      message: `low ${band.low} % is ${band.low < s.wiltingPoint ? 'below' : 'at'} ${soil}'s wilting point ${s.wiltingPoint} % (plants wilt before watering starts): raise the band's low above ${s.wiltingPoint} %, or change the soil`,
    };
  }
  return undefined;
}

export interface ZoneSupply {
  plant: PlantType;
  areaM2: number;
  flowLpm: number;
  /** Minutes a day the valve may be open: the zone's windows, each with the longest run that may start at its end (lib/window-minutes.ts). */
  wateringMinutesPerDay: number;
}

/** A hot day's need (L): Kc × the design ET0 over the area (1 mm on 1 m² is 1 L). */
export const peakNeedL = (plant: PlantType, areaM2: number): number => PLANT_KC[plant] * DESIGN_ET0_MM_DAY * areaM2;

/**
 * The valve cannot give a hot day's water inside the zone's windows: flow × the minutes a
 * day it may be open below Kc × DESIGN_ET0_MM_DAY × area. A warning, not a refusal: the zone still gets what the
 * valve can give, and the band holds on milder days.
 */
export function flowShortfall(z: ZoneSupply): string | undefined {
  const needL = peakNeedL(z.plant, z.areaM2);
  const capacityL = z.flowLpm * z.wateringMinutesPerDay;
  if (capacityL >= needL) return undefined;
  return `the valve's ${z.flowLpm} L/min for the ${Math.round(z.wateringMinutesPerDay)} min a day its windows allow gives ${Math.round(capacityL)} L, `
    + `a hot day takes ${Math.round(needL)} L (Kc ${PLANT_KC[z.plant]} × ${DESIGN_ET0_MM_DAY} mm × ${z.areaM2} m²): `
    + `raise the flow to ${Math.ceil(needL / Math.max(1, z.wateringMinutesPerDay))} L/min, widen the windows, or split the zone`;
}
