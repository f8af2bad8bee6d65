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
  /** Overrides the plant type's band when set. */
  band: MoistureBand.optional(),
  /** The zone's valve controller (automatic zones). */
  valveId: EntityId.optional(),
  /** Cron expressions (5 fields, local time of the deployment) during which watering may start. */
  windows: z.array(z.string()).optional(),
});
export type ZoneConfig = z.infer<typeof ZoneConfig>;
