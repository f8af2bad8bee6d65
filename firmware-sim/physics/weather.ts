import { z } from 'zod';

/**
 * Air temperature and reference evapotranspiration for a temperate city, defaulting to
 * a Yangtze-delta climate (~31°N, UTC+8), where the greening reply comes from.
 */
export const Climate = z.strictObject({
  latitudeDeg: z.number().min(-66).max(66).default(31),
  utcOffsetH: z.number().min(-12).max(14).default(8),
  /** Annual mean air temperature and the half-amplitude of its seasonal swing. */
  meanC: z.number().default(17),
  seasonalAmplitudeC: z.number().min(0).default(11),
  /** Day of year of the warmest daily mean (late July in the northern hemisphere). */
  warmestDoy: z.number().int().min(1).max(366).default(205),
  /** Daily max − min. */
  diurnalRangeC: z.number().min(0).default(8),
});
export type Climate = z.infer<typeof Climate>;
export const DEFAULT_CLIMATE: Climate = Climate.parse({});

/** What a scenario may change about the weather for a while. */
export interface WeatherEffect {
  tempOffsetC?: number;
  rainMmH?: number;
}

export interface WeatherNow {
  airC: number;
  /** Daily mean air temperature: soil temperature follows it, damped. */
  dailyMeanC: number;
  rainMmH: number;
  /** Reference evapotranspiration rate at this instant (mm/h). */
  et0MmH: number;
}

const DAY_MS = 86_400_000;

/** Local day of year (1..366) and hour (0..24) at epoch ms t. */
export function localTime(t: number, utcOffsetH: number): { doy: number; hour: number } {
  const local = t + utcOffsetH * 3_600_000;
  const d = new Date(local);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  return { doy: Math.floor((local - yearStart) / DAY_MS) + 1, hour: (local % DAY_MS + DAY_MS) % DAY_MS / 3_600_000 };
}

/** Extraterrestrial radiation Ra (MJ m⁻² day⁻¹), FAO-56 equations 21–25. */
export function extraterrestrialRadiation(doy: number, latitudeDeg: number): number {
  const phi = (latitudeDeg * Math.PI) / 180;
  const dr = 1 + 0.033 * Math.cos((2 * Math.PI * doy) / 365);
  const delta = 0.409 * Math.sin((2 * Math.PI * doy) / 365 - 1.39);
  const ws = Math.acos(Math.max(-1, Math.min(1, -Math.tan(phi) * Math.tan(delta))));
  const gsc = 0.082; // solar constant, MJ m⁻² min⁻¹
  return ((24 * 60) / Math.PI) * gsc * dr * (ws * Math.sin(phi) * Math.sin(delta) + Math.cos(phi) * Math.cos(delta) * Math.sin(ws));
}

/** Hargreaves' daily ET0 (mm/day), FAO-56 equation 52; 0.408 converts MJ m⁻² to mm of water. */
export function hargreavesEt0(doy: number, latitudeDeg: number, tMinC: number, tMaxC: number): number {
  const tMean = (tMinC + tMaxC) / 2;
  const ra = extraterrestrialRadiation(doy, latitudeDeg);
  return Math.max(0, 0.0023 * 0.408 * ra * (tMean + 17.8) * Math.sqrt(Math.max(0, tMaxC - tMinC)));
}

/**
 * Share of the daily ET0 per hour: a half-sine over 06:00–18:00 that integrates to 1,
 * because evaporation follows the sun and is near zero at night.
 */
export function diurnalEtShare(hour: number): number {
  if (hour < 6 || hour > 18) return 0;
  return (Math.PI / 24) * Math.sin((Math.PI * (hour - 6)) / 12);
}

export function weatherAt(t: number, climate: Climate, effect: WeatherEffect = {}): WeatherNow {
  const { doy, hour } = localTime(t, climate.utcOffsetH);
  const offset = effect.tempOffsetC ?? 0;
  const dailyMeanC = climate.meanC + climate.seasonalAmplitudeC * Math.cos((2 * Math.PI * (doy - climate.warmestDoy)) / 365) + offset;
  const half = climate.diurnalRangeC / 2;
  // Coolest near 03:00, warmest near 15:00.
  const airC = dailyMeanC + half * Math.sin((2 * Math.PI * (hour - 9)) / 24);
  const rainMmH = effect.rainMmH ?? 0;
  // Rain days are overcast: little evaporative demand while it rains.
  const et0Day = hargreavesEt0(doy, climate.latitudeDeg, dailyMeanC - half, dailyMeanC + half) * (rainMmH > 0 ? 0.2 : 1);
  return { airC, dailyMeanC, rainMmH, et0MmH: et0Day * diurnalEtShare(hour) };
}
