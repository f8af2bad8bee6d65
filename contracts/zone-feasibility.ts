import { PLANT_KC, SOIL_WATER, type MoistureBand, type SoilType } from './zone.ts';
import type { PlantType } from './device.ts';
import { bilingual } from '../lib/alert-text.ts';

/**
 * Whether a zone can be watered as described: the one judgement the inventory import, the
 * zone settings API, the irrigation engine at run time and the evaluation share, so all four
 * say the same words about the same zone.
 */

/** Peak reference ET0 a zone must be able to hold a day of (mm/day): the drought month's hottest days reach ~7. */
export const DESIGN_ET0_MM_DAY = 7;

export type BandProblemCode = 'low_at_field_capacity' | 'high_above_saturation' | 'low_at_wilting_point';

/** A soil's name in Chinese, as the band problem and the irrigation alerts say it. */
export const SOIL_ZH: Record<SoilType, string> = { sand: '砂土', loam: '壤土', clay: '黏土' };

export interface BandProblem {
  code: BandProblemCode;
  /** The band's end that is wrong. */
  field: 'low' | 'high';
  /** What is wrong and what to change, in an operator's words: Chinese, then English (`message` is both, `中文 / English`). */
  zh: string;
  en: string;
  message: string;
}

const problem = (code: BandProblemCode, field: 'low' | 'high', zh: string, en: string): BandProblem => ({ code, field, zh, en, message: bilingual(zh, en) });

/**
 * A band the zone's soil cannot hold. Water above field capacity drains within hours (sand
 * in ~2 h, loam in ~8), so a low at or above field capacity is never held for long, whatever
 * the controller does; no soil holds more than saturation, so a high above it is never
 * reached; and a low at or below the wilting point keeps the plants dying "in band".
 * The words are said here once, for the import's errors, the zone settings API's refusal and
 * the zone_infeasible alert alike.
 */
export function bandProblem(band: MoistureBand, soil: SoilType): BandProblem | undefined {
  const s = SOIL_WATER[soil], zh = SOIL_ZH[soil];
  if (band.low >= s.fieldCapacity) {
    const over = band.low > s.fieldCapacity;
    return problem('low_at_field_capacity', 'low',
      `区间下限 ${band.low} % ${over ? '高于' : '等于'}${zh}的田间持水量 ${s.fieldCapacity} %（数小时内就会排水降到其下）：请把下限调到 ${s.fieldCapacity} % 以下，或更正土壤类型`,
      `low ${band.low} % is ${over ? 'above' : 'at'} ${soil}'s field capacity ${s.fieldCapacity} % (the soil drains below it within hours): lower the band's low under ${s.fieldCapacity} %, or change the soil`);
  }
  if (band.high > s.saturation) {
    return problem('high_above_saturation', 'high',
      `区间上限 ${band.high} % 高于${zh}的饱和含水量 ${s.saturation} %（${zh}存不住这么多水）：请把上限调到 ${s.saturation} % 或以下，或更正土壤类型`,
      `high ${band.high} % is above ${soil}'s saturation ${s.saturation} % (no ${soil} holds that much water): lower the band's high to ${s.saturation} % or less, or change the soil`);
  }
  if (band.low <= s.wiltingPoint) {
    const under = band.low < s.wiltingPoint;
    return problem('low_at_wilting_point', 'low',
      `区间下限 ${band.low} % ${under ? '低于' : '等于'}${zh}的凋萎点 ${s.wiltingPoint} %（植物在开始浇水前就会萎蔫）：请把下限调到 ${s.wiltingPoint} % 以上，或更正土壤类型`,
      `low ${band.low} % is ${under ? 'below' : 'at'} ${soil}'s wilting point ${s.wiltingPoint} % (plants wilt before watering starts): raise the band's low above ${s.wiltingPoint} %, or change the soil`);
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
