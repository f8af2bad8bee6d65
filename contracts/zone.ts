import { z } from 'zod';
import { EntityId, PlantType, ZoneMode } from './device.ts';

export const SOIL_TYPES = ['sand', 'loam', 'clay'] as const;
export const SoilType = z.enum(SOIL_TYPES);
export type SoilType = z.infer<typeof SoilType>;

/** Volumetric water content band (%) a zone is kept in. */
export const MoistureBand = z.strictObject({
  low: z.number().min(0).max(100),
  high: z.number().min(0).max(100),
}).refine((b) => b.low < b.high, { message: 'low must be below high', path: ['low'] });
export type MoistureBand = z.infer<typeof MoistureBand>;

/**
 * An irrigation zone as the rules see it. Registry columns (migration 003) back every
 * field; the inventory file and the API fill them.
 */
export const ZoneConfig = z.object({
  id: EntityId,
  communityId: EntityId,
  districtId: EntityId,
  name: z.string(),
  plant: PlantType,
  mode: ZoneMode,
  soil: SoilType,
  /** The zone's own band; when unset, its plant's FAO-56 band on its soil (or the deployment's table). */
  band: MoistureBand.optional(),
  /** The zone's valve controller (automatic zones). */
  valveId: EntityId.optional(),
  /** Cron expressions (5 fields, local time of the deployment) during which watering may start. */
  windows: z.array(z.string()).optional(),
  /** Planted area, depth of the root zone (where the sensors sit) and the valve's flow; absent: DEFAULT_ZONE_HYDRAULICS. */
  areaM2: z.number().positive().optional(),
  rootDepthMm: z.number().min(50).max(2000).optional(),
  flowLpm: z.number().positive().optional(),
});
export type ZoneConfig = z.infer<typeof ZoneConfig>;

/**
 * The plant-type moisture bands on loam (volumetric water content, %), shifted per soil by
 * DEFAULT_SOIL_OFFSET: no longer the default band (that is fao56Band, below; the table gave a
 * sand lawn 11–21 against a field capacity of 12), but what a deployment that sets only one
 * of `bands` and `soilOffset` gets for the other (rules/irrigation/settings.ts resolveBand).
 * Where they come from: a loam holds roughly 12–14 % VWC at wilting point and 28–32 % at
 * field capacity (USDA NRCS soil water-holding tables; FAO-56 Table 19). Irrigation
 * practice refills at a "management allowed depletion" of the available water: ~50 % for
 * shallow-rooted turf and ground cover (FAO-56 p ≈ 0.5), 60–70 % for deeper-rooted shrubs,
 * hedges and established trees. Refill at WP + (1 − MAD)·(FC − WP) and stop a little
 * under field capacity, leaving room for rain. Hence lawn ≈ 20–30 %, shrubs lower.
 * They are defaults only: any zone may override its band.
 */
export const DEFAULT_MOISTURE_BANDS: Record<PlantType, MoistureBand> = {
  lawn: { low: 20, high: 30 },
  ground_cover: { low: 20, high: 29 },
  hedge: { low: 18, high: 28 },
  shrubs: { low: 17, high: 27 },
  trees: { low: 15, high: 26 },
};

/**
 * Shift of the loam band for other soils: sand holds far less water at field capacity
 * (~10–15 % VWC), clay far more (~35–40 %, with wilting point ~20 %).
 */
export const DEFAULT_SOIL_OFFSET: Record<SoilType, number> = { sand: -9, loam: 0, clay: 8 };

/**
 * What watering a zone needs to know beyond its band, per plant type, when the inventory
 * does not say: the planted area, the depth the roots (and the sensors) reach, and the
 * valve's flow. Root depths are urban-landscape practice (turf 150–250 mm, shrubs and
 * hedges 300–450, established trees 600 in the irrigated zone); flows are a spray zone's
 * ~12–15 mm/h over the area for turf and ground cover, drip/bubblers (6–8 mm/h) for woody
 * plants. The simulator's fleet and the evaluation use the same table.
 */
export const DEFAULT_ZONE_HYDRAULICS: Record<PlantType, { areaM2: number; rootDepthMm: number; flowLpm: number }> = {
  lawn: { areaM2: 120, rootDepthMm: 200, flowLpm: 30 },
  ground_cover: { areaM2: 80, rootDepthMm: 250, flowLpm: 16 },
  hedge: { areaM2: 40, rootDepthMm: 400, flowLpm: 6 },
  shrubs: { areaM2: 60, rootDepthMm: 450, flowLpm: 8 },
  trees: { areaM2: 100, rootDepthMm: 600, flowLpm: 10 },
};

/**
 * Water a soil holds (volumetric %, FAO-56 table 19 and USDA texture classes): field
 * capacity (what it holds after draining, within hours for sand, days for clay), wilting
 * point and saturation. The simulator's physics and the controller read the same table.
 */
export const SOIL_WATER: Record<SoilType, { fieldCapacity: number; wiltingPoint: number; saturation: number }> = {
  sand: { fieldCapacity: 12, wiltingPoint: 5, saturation: 38 },
  loam: { fieldCapacity: 28, wiltingPoint: 13, saturation: 45 },
  clay: { fieldCapacity: 38, wiltingPoint: 22, saturation: 50 },
};

/**
 * Basic infiltration rate of a soil (mm/h, the steady intake once the surface is wet): FAO
 * Irrigation Water Management training manual 5 (Brouwer et al. 1988, table 5): sand > 30,
 * sandy loam 20–30, loam 10–20, clay loam 5–10, clay 1–5 mm/h. Water applied faster ponds in
 * the surface's depressions and runs off once they are full. The simulator's soil and the
 * controller's cycle-and-soak read the same table.
 */
export const SOIL_INTAKE_MM_H: Record<SoilType, number> = { sand: 30, loam: 13, clay: 5 };

/**
 * Depression storage of a planted surface (mm): what ponds before water runs off. ASCE
 * Manual of Practice 77 / WEF design of urban stormwater: 2.5–5 mm for lawns and other
 * pervious ground; the lower end, as a mown lawn or a mulched bed on a slight slope.
 */
export const SURFACE_STORAGE_MM = 2.5;

/**
 * Watering windows when neither the zone nor the deployment names any: early morning and
 * evening lose least to evaporation and keep paths dry while residents use them.
 */
export const DEFAULT_WATERING_WINDOWS: readonly string[] = ['* 5-6 * * *', '* 19-20 * * *'];

/** The predictive controller's longest run (summed cycles) by default: a big zone with deep roots needs hours to refill. */
export const DEFAULT_MAX_RUN_S = 4 * 3600;

/** Crop coefficients (mid-season Kc, FAO-56 table 12 and urban landscape practice). */
export const PLANT_KC: Record<PlantType, number> = {
  lawn: 0.95,
  ground_cover: 0.8,
  hedge: 0.7,
  shrubs: 0.6,
  trees: 0.55,
};

/**
 * FAO-56 depletion fraction p per plant type (Allen et al. 1998, table 22: the share of the
 * total available water a plant takes up before it is stressed). Cool-season turf 0.40 (the
 * city is in Jilin: bluegrass and fescue); 0.50, FAO-56's "commonly used" value, for ground
 * cover, hedges, shrubs and deciduous trees (table 22 gives 0.5 for orchards and berries).
 */
export const PLANT_DEPLETION: Record<PlantType, number> = {
  lawn: 0.4,
  ground_cover: 0.5,
  hedge: 0.5,
  shrubs: 0.5,
  trees: 0.5,
};

/**
 * Water above field capacity a band's high allows (points of VWC): FAO-56 (chapter 8) counts
 * water above field capacity as drained the day it arrives, not as stress, and a capacitive
 * probe reads ±2–3 points; far below the aeration limit (air-filled porosity under 10 %,
 * saturation − 10: sand 28, loam 35, clay 40), where roots suffocate.
 */
export const HIGH_ABOVE_FIELD_CAPACITY = 2;

/**
 * The band a plant is fine in on a soil, from FAO-56: total available water TAW = field
 * capacity − wilting point; the readily available water RAW = p × TAW is used before the
 * plant is stressed (Ks < 1), so the low is wilting point + (1 − p) × TAW and the high is
 * field capacity + HIGH_ABOVE_FIELD_CAPACITY. `p` overrides the plant's depletion fraction.
 * Sand lawn: TAW 7, RAW 2.8, band 9.2–14; loam shrubs: TAW 15, band 20.5–30.
 */
export function fao56Band(plant: PlantType, soil: SoilType, p = PLANT_DEPLETION[plant]): MoistureBand {
  const s = SOIL_WATER[soil];
  const taw = s.fieldCapacity - s.wiltingPoint;
  const low = Math.round((s.wiltingPoint + (1 - p) * taw) * 10) / 10;
  return { low, high: Math.min(s.fieldCapacity + HIGH_ABOVE_FIELD_CAPACITY, s.saturation - 10) };
}
