import { z } from 'zod';
import { BINDING_NEEDS_EUI, EntityId, FacilityType, LorawanApplication, PlantType, ZoneMode } from './device.ts';
import { DeviceKind } from './reading.ts';
import { PROFILE_ID } from './device-profile.ts';
import { MoistureBand, SoilType } from './zone.ts';
import { Team } from './team.ts';

/**
 * The inventory file: the whole city as one document (YAML or JSON), nested the way
 * operators think of it — district → sub-district (街道) → community (小区) → zones,
 * facilities and devices. Devices carry no secrets: import generates them.
 * Every schema here round-trips: what export writes, import reads back unchanged.
 */
export const INVENTORY_VERSION = 1;

/**
 * A place's name as people read it on the pages and in notifications; 100 characters holds
 * the longest official names (e.g. 白城市洮北区新华街道幸福小区第二期) many times over and
 * keeps one file from filling every page and message with a single name.
 */
export const NAME_MAX_CHARS = 100;
export const InventoryName = z.string().trim().min(1, 'expected a non-empty name').max(NAME_MAX_CHARS, `expected a name of at most ${NAME_MAX_CHARS} characters`);
const Name = InventoryName;

/** Lower-cased by the import, so the file may use either case; no transform here (export must encode). */
export const InventoryEui = z.string().regex(/^[0-9a-fA-F]{16}$/, 'expected 16 hex digits');

export const InventoryDevice = z.strictObject({
  id: EntityId,
  kind: DeviceKind,
  devEui: InventoryEui.optional(),
  /**
   * The network-server application whose uplinks alone may speak for this LoRaWAN device:
   * a ChirpStack application id, or The Things Stack `{application}@{tenant}`. Omitted =
   * unbound (any application that reaches its dev EUI); an import clears a binding the
   * file drops, as it does a dev EUI.
   */
  lorawanApplication: LorawanApplication.optional(),
  /**
   * The device profile its uplinks are read with (`GET /api/v1/device-profiles`: vendor,
   * model, field names and units); omitted = the generic field names.
   */
  profile: z.string().regex(PROFILE_ID, 'expected a profile id: lower-case letters, digits, . _ -').optional(),
  /** Seconds between reports; the device-health rules derive "offline" from it. */
  reportIntervalS: z.number().int().min(10).max(7 * 86_400).default(900),
  /** The zone (soil, valve, rain) or facility (tilt) of this community the device belongs to. */
  zone: EntityId.optional(),
  facility: EntityId.optional(),
  /** The gateway-kind device whose radio this device reports through. */
  gateway: EntityId.optional(),
})
  .refine((d) => !(d.zone && d.facility), { message: 'a device belongs to a zone or a facility, not both', path: ['facility'] })
  .refine((d) => !(d.lorawanApplication && !d.devEui), { message: BINDING_NEEDS_EUI, path: ['lorawanApplication'] });
export type InventoryDevice = z.infer<typeof InventoryDevice>;

export const InventoryZone = z.strictObject({
  id: EntityId,
  name: Name,
  plant: PlantType,
  mode: ZoneMode,
  soil: SoilType.default('loam'),
  /** Overrides the plant type's moisture band. */
  band: MoistureBand.optional(),
  /** The valve-kind device of this zone that waters it; required when mode is automatic. */
  valve: EntityId.optional(),
  /** Cron expressions (5 fields) during which watering may start; omitted = the defaults. */
  windows: z.array(z.string().trim().min(1)).optional(),
  /** Planted area (m²), root-zone depth (mm) and valve flow (L/min); omitted = the plant type's defaults (contracts/zone.ts DEFAULT_ZONE_HYDRAULICS). */
  areaM2: z.number().positive().max(100_000).optional(),
  rootDepthMm: z.number().min(50).max(2000).optional(),
  flowLpm: z.number().positive().max(2000).optional(),
});
export type InventoryZone = z.infer<typeof InventoryZone>;

export const Location = z.strictObject({
  lat: z.number().min(-90).max(90).optional(),
  lon: z.number().min(-180).max(180).optional(),
  description: z.string().trim().min(1).optional(),
})
  .refine((l) => (l.lat === undefined) === (l.lon === undefined), { message: 'lat and lon go together', path: ['lat'] })
  .refine((l) => l.lat !== undefined || l.description !== undefined, { message: 'expected lat/lon, a description, or both' });
export type Location = z.infer<typeof Location>;

export const TiltBaseline = z.strictObject({ pitch: z.number().min(-90).max(90), roll: z.number().min(-180).max(180) });
export type TiltBaseline = z.infer<typeof TiltBaseline>;

export const TiltThresholds = z.strictObject({
  warningDeg: z.number().positive().max(90),
  criticalDeg: z.number().positive().max(90),
}).refine((t) => t.warningDeg < t.criticalDeg, { message: 'warningDeg must be below criticalDeg', path: ['warningDeg'] });
export type TiltThresholds = z.infer<typeof TiltThresholds>;

export const InventoryFacility = z.strictObject({
  id: EntityId,
  name: Name,
  type: FacilityType,
  location: Location.optional(),
  /**
   * Tilt (pitch, roll) at install. Optional because a calibrate call also sets it: when the
   * file omits it, import keeps whatever the registry holds.
   */
  baseline: TiltBaseline.optional(),
  /** Overrides the facility type's warning/critical tilt angles. */
  thresholds: TiltThresholds.optional(),
});
export type InventoryFacility = z.infer<typeof InventoryFacility>;

export const InventoryCommunity = z.strictObject({
  id: EntityId,
  name: Name,
  zones: z.array(InventoryZone).default([]),
  facilities: z.array(InventoryFacility).default([]),
  devices: z.array(InventoryDevice).default([]),
});
export type InventoryCommunity = z.infer<typeof InventoryCommunity>;

export const InventorySubDistrict = z.strictObject({ id: EntityId, name: Name, communities: z.array(InventoryCommunity).default([]) });
export type InventorySubDistrict = z.infer<typeof InventorySubDistrict>;

export const InventoryDistrict = z.strictObject({ id: EntityId, name: Name, subDistricts: z.array(InventorySubDistrict).default([]) });
export type InventoryDistrict = z.infer<typeof InventoryDistrict>;

export const Inventory = z.strictObject({
  version: z.literal(INVENTORY_VERSION),
  districts: z.array(InventoryDistrict),
  teams: z.array(Team).default([]),
});
export type Inventory = z.infer<typeof Inventory>;
export type InventoryInput = z.input<typeof Inventory>;

/** A facility as the facility-health rules see it. */
export const FacilityConfig = z.object({
  id: EntityId,
  communityId: EntityId,
  districtId: EntityId,
  subDistrictId: EntityId.optional(),
  name: z.string(),
  type: FacilityType,
  location: Location.optional(),
  baseline: TiltBaseline.optional(),
  thresholds: TiltThresholds.optional(),
});
export type FacilityConfig = z.infer<typeof FacilityConfig>;

export const CommunityInfo = z.object({
  id: EntityId,
  name: z.string(),
  districtId: EntityId,
  subDistrictId: EntityId.optional(),
});
export type CommunityInfo = z.infer<typeof CommunityInfo>;

/** One problem in an inventory document: which file, where inside it, what is wrong. */
export const InventoryProblem = z.object({
  file: z.string(),
  path: z.string(),
  message: z.string(),
  line: z.number().int().optional(),
});
export type InventoryProblem = z.infer<typeof InventoryProblem>;

export const CHANGE_ACTIONS = ['inserted', 'updated', 'retired', 'deleted'] as const;
export const ChangeAction = z.enum(CHANGE_ACTIONS);
export type ChangeAction = z.infer<typeof ChangeAction>;

export const ChangeCounts = z.object({ inserted: z.number().int(), updated: z.number().int(), retired: z.number().int(), deleted: z.number().int() });
export type ChangeCounts = z.infer<typeof ChangeCounts>;

export const RowChange = z.object({
  table: z.string(),
  key: z.string(),
  action: ChangeAction,
  /** For updates: the columns whose values changed. */
  columns: z.array(z.string()).optional(),
});
export type RowChange = z.infer<typeof RowChange>;

export const ImportReport = z.object({
  tables: z.record(z.string(), ChangeCounts),
  totals: ChangeCounts,
  changes: z.array(RowChange),
  /** SQLite's count of rows written by the import: 0 when nothing changed. */
  rowsWritten: z.number().int(),
});
export type ImportReport = z.infer<typeof ImportReport>;

/** A new device's secret, returned once by the import that created it. */
export const DeviceCredential = z.object({ deviceId: EntityId, secret: z.string() });
export type DeviceCredential = z.infer<typeof DeviceCredential>;
