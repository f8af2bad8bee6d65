import { DEFAULT_ZONE_HYDRAULICS, PLANT_KC, SOIL_INTAKE_MM_H, SOIL_WATER, SURFACE_STORAGE_MM, type MoistureBand, type ZoneConfig } from '../../contracts/zone.ts';

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
export const priorDryPerDay = (zone: Pick<ZoneConfig, 'plant' | 'areaM2' | 'rootDepthMm' | 'flowLpm'>, et0MmDay = PRIOR_ET0_MM_DAY): number =>
  (PLANT_KC[zone.plant] * et0MmDay * 100) / hydraulicsOf(zone).rootDepthMm;

/**
 * The zone's drying rate (points a day) and how it was found: with a reference ET0 (a
 * forecast's or the last known), the learned points per mm of ET0 × it, else Kc × it over the
 * root depth; without, the learned points per day, else Kc × the prior ET0 (5 mm).
 */
export function dryingRate(zone: Pick<ZoneConfig, 'plant' | 'areaM2' | 'rootDepthMm' | 'flowLpm'>, learn: { dryPerDay?: number; dryPerMmEt0?: number } | undefined, et0MmDay: number | undefined): { perDay: number; how: () => string } {
  // `how` is a function: asked at every evaluation, the rate is explained only when a decision is recorded.
  if (et0MmDay !== undefined) {
    const et0 = () => Math.round(et0MmDay * 10) / 10;
    if (learn?.dryPerMmEt0 !== undefined) {
      const perMm = learn.dryPerMmEt0;
      return { perDay: perMm * et0MmDay, how: () => `learned ${Math.round(perMm * 100) / 100} points per mm × ET0 ${et0()} mm` };
    }
    return { perDay: priorDryPerDay(zone, et0MmDay), how: () => `Kc ${PLANT_KC[zone.plant]} × ET0 ${et0()} mm, assumed` };
  }
  if (learn?.dryPerDay !== undefined) return { perDay: learn.dryPerDay, how: () => 'learned, no ET0 known' };
  return { perDay: priorDryPerDay(zone), how: () => `Kc ${PLANT_KC[zone.plant]} × ET0 ${PRIOR_ET0_MM_DAY} mm, assumed` };
}

/**
 * Below field capacity by this much a run aims (points): a soil sensor reads with a
 * calibration bias of about a point (the simulator's σ; capacitive probes ±1–3 without a
 * soil-specific calibration), and water above true field capacity drains within hours (sand
 * in ~2 h), so a run aimed at field capacity as a sensor reading 1 low sees it is water down
 * the drain.
 */
export const FIELD_CAPACITY_MARGIN = 1;

/**
 * Where a run aims: `share` of the band above its low, but never over the soil's field
 * capacity − FIELD_CAPACITY_MARGIN, nor under low + 0.5.
 */
export function targetOf(band: MoistureBand, soil: ZoneConfig['soil'], share: number): number {
  const fc = SOIL_WATER[soil].fieldCapacity - FIELD_CAPACITY_MARGIN;
  return Math.max(band.low + 0.5, Math.min(band.low + share * (band.high - band.low), fc, band.high));
}

const offsetFormat = new Map<string, Intl.DateTimeFormat>();
/** Per time zone: the offsets of the hours seen, keyed by the hour's number since the epoch, and the last hour asked. */
const offsets = new Map<string, { byHour: Map<number, number>; lastHour: number; lastOff: number }>();
/**
 * The time zone's offset from UTC (ms) in the hour t falls in; cached per zone and hour (an
 * Intl call costs microseconds). Asked several times per evaluation of every zone, mostly for
 * the same hour: the last hour is kept apart and the cache is keyed by number, not by a built
 * string (the string key was 9 % of a season's evaluation, measured with --cpu-prof).
 */
export function offsetMs(t: number, timezone: string): number {
  const hour = Math.floor(t / 3_600_000);
  let zone = offsets.get(timezone);
  if (zone?.lastHour === hour) return zone.lastOff;
  if (!zone) offsets.set(timezone, (zone = { byHour: new Map(), lastHour: Number.NaN, lastOff: 0 }));
  let off = zone.byHour.get(hour);
  if (off === undefined) {
    let f = offsetFormat.get(timezone);
    if (!f) offsetFormat.set(timezone, (f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' })));
    const p = Object.fromEntries(f.formatToParts(hour * 3_600_000).map((x) => [x.type, Number(x.value)]));
    off = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!) - hour * 3_600_000;
    if (zone.byHour.size > 50_000) zone.byHour.clear();
    zone.byHour.set(hour, off);
  }
  zone.lastHour = hour;
  zone.lastOff = off;
  return off;
}

/** Share of a day's ET from local midnight to local hour h: the integral of the half-sine over 06:00–18:00. */
const cumulative = (h: number): number => (h <= 6 ? 0 : h >= 18 ? 1 : (1 - Math.cos((Math.PI * (h - 6)) / 12)) / 2);

/**
 * Share of a day's evapotranspiration between two times: ET follows the sun, a half-sine
 * over 06:00–18:00 local (the same shape the simulator's weather uses; FAO-56 hourly ET0 is
 * near zero at night). A night's drying is mostly drainage; a noon's is ET.
 */
export function etShare(from: number, to: number, timezone: string): number {
  if (to <= from) return 0;
  const a = (from + offsetMs(from, timezone)) / 3_600_000;
  const b = (to + offsetMs(to, timezone)) / 3_600_000;
  const dayA = Math.floor(a / 24);
  const dayB = Math.floor(b / 24);
  return dayB - dayA + cumulative(b - dayB * 24) - cumulative(a - dayA * 24);
}

/** Of the surface's depression storage, the share a cycle may fill (the rest is a margin for an uneven spray). */
const POND_SHARE = 0.8;

/**
 * Cycle-and-soak for a zone: when its valve applies water faster than its soil takes it in
 * (flow × 60 ÷ area mm/h against the soil's basic infiltration rate), a cycle lasts until the
 * excess would fill POND_SHARE of the surface's depression storage, then the valve closes for
 * as long as the standing water takes to soak in. A spray lawn (15 mm/h) on clay (5 mm/h):
 * 12 min on, 24 min off; on loam (13 mm/h): 60 min on, 9 min off. Undefined when the soil keeps
 * up. An operator's per-soil setting overrides it (null: never split).
 */
export function cycleSoakOf(zone: Pick<ZoneConfig, 'plant' | 'soil' | 'areaM2' | 'rootDepthMm' | 'flowLpm'>, configured: Partial<Record<ZoneConfig['soil'], { runS: number; soakS: number } | null>>): { runS: number; soakS: number } | undefined {
  const own = configured[zone.soil];
  if (own !== undefined) return own ?? undefined;
  const h = hydraulicsOf(zone);
  const rateMmH = (h.flowLpm * 60) / h.areaM2;
  const intake = SOIL_INTAKE_MM_H[zone.soil];
  if (rateMmH <= intake) return undefined;
  const pond = POND_SHARE * SURFACE_STORAGE_MM;
  return { runS: Math.max(60, Math.floor((pond / (rateMmH - intake)) * 3600)), soakS: Math.ceil((pond / intake) * 3600) };
}
