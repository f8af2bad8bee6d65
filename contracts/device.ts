import { z } from 'zod';
import { DEVICE_ID_PATTERN } from './topics.ts';
import { DeviceKind } from './reading.ts';

export const PLANT_TYPES = ['trees', 'shrubs', 'hedge', 'ground_cover', 'lawn'] as const;
export const PlantType = z.enum(PLANT_TYPES);
export type PlantType = z.infer<typeof PlantType>;

export const FACILITY_TYPES = ['pavilion', 'trellis_rope', 'planter_trough', 'fitness_equipment', 'bench', 'other'] as const;
export const FacilityType = z.enum(FACILITY_TYPES);
export type FacilityType = z.infer<typeof FacilityType>;

export const ZoneMode = z.enum(['automatic', 'manual']);
export type ZoneMode = z.infer<typeof ZoneMode>;

/** Ids of places and devices: the operator's own codes, safe as topic levels and tag values. */
export const EntityId = z.string().regex(DEVICE_ID_PATTERN, 'expected 1-64 letters, digits, _ . : or -, starting with a letter or digit');

export const DevEui = z
  .string()
  .regex(/^[0-9a-fA-F]{16}$/, 'expected 16 hex digits')
  .transform((s) => s.toLowerCase());

/** Where a device is installed; missing places are created on registration. */
export const Placement = z.strictObject({
  district: EntityId,
  community: EntityId,
  zone: EntityId.optional(),
  plant: PlantType.optional(),
  mode: ZoneMode.optional(),
  facility: EntityId.optional(),
  facilityType: FacilityType.optional(),
}).refine((p) => !(p.zone && p.facility), { message: 'a device belongs to a zone or a facility, not both', path: ['facility'] });
export type Placement = z.infer<typeof Placement>;

export const DeviceRegistration = z.strictObject({
  id: EntityId,
  kind: DeviceKind,
  devEui: DevEui.optional(),
  reportIntervalS: z.number().int().min(10).max(7 * 86_400).default(900),
  place: Placement.optional(),
});
export type DeviceRegistration = z.input<typeof DeviceRegistration>;

/** A device as the hot path sees it: everything needed to authorise, validate and tag. */
export interface DeviceInfo {
  id: string;
  kind: DeviceKind;
  devEui: string | undefined;
  reportIntervalS: number;
  disabled: boolean;
  districtId: string | undefined;
  communityId: string | undefined;
  zoneId: string | undefined;
  plant: string | undefined;
  facilityId: string | undefined;
  facilityType: string | undefined;
  baselinePitch: number | undefined;
  baselineRoll: number | undefined;
  /** The community's sub-district (街道), once the inventory gives it one. */
  subDistrictId?: string | undefined;
  /** The gateway-kind device this one reports through (inventory `gateway`). */
  gatewayId?: string | undefined;
}
