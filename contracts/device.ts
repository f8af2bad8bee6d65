import { z } from 'zod';
import { DEVICE_ID_PATTERN } from './topics.ts';
import { DeviceKind } from './reading.ts';
import { PROFILE_ID } from './device-profile.ts';

export const PLANT_TYPES = ['trees', 'shrubs', 'hedge', 'ground_cover', 'lawn'] as const;
export const PlantType = z.enum(PLANT_TYPES);
export type PlantType = z.infer<typeof PlantType>;

export const FACILITY_TYPES = ['pavilion', 'trellis_rope', 'planter_trough', 'fitness_equipment', 'bench', 'other'] as const;
export const FacilityType = z.enum(FACILITY_TYPES);
export type FacilityType = z.infer<typeof FacilityType>;

/**
 * A facility type in words, per language: the one copy the pages (web/messages.ts) and the
 * facility alerts (rules/facility-health/messages.ts) both say, so a technician reads 凉亭 on
 * the alert and on the facility's page alike.
 */
export const FACILITY_TYPE_LABELS = {
  zh: { pavilion: '凉亭', trellis_rope: '牵引绳爬藤架', planter_trough: '种植槽', fitness_equipment: '健身器材', bench: '座椅', other: '其他设施' },
  en: { pavilion: 'pavilion', trellis_rope: 'trellis rope', planter_trough: 'planter trough', fitness_equipment: 'fitness equipment', bench: 'bench', other: 'other facility' },
} as const satisfies Record<'zh' | 'en', Record<FacilityType, string>>;

export const ZoneMode = z.enum(['automatic', 'manual']);
export type ZoneMode = z.infer<typeof ZoneMode>;

/** Ids of places and devices: the operator's own codes, safe as topic levels and tag values. */
export const EntityId = z.string().regex(DEVICE_ID_PATTERN, 'expected 1-64 letters, digits, _ . : or -, starting with a letter or digit');

export const DevEui = z
  .string()
  .regex(/^[0-9a-fA-F]{16}$/, 'expected 16 hex digits')
  .transform((s) => s.toLowerCase());

// Network-server application ids are topic levels: no wildcards or separators, so a
// service account's scope can never widen a topic filter (broker/acl.ts).
const CHIRPSTACK_APP = /^[A-Za-z0-9_.:-]{1,64}$/;
const TTS_APP_AT_TENANT = /^[a-z0-9](?:[-]?[a-z0-9]){1,35}@[a-z0-9](?:[-]?[a-z0-9]){1,35}$/;
export const ChirpstackAppId = z.string().regex(CHIRPSTACK_APP, 'expected an application id (letters, digits, _ . : -)');
export const TtsAppAtTenant = z.string().regex(TTS_APP_AT_TENANT, 'expected {application}@{tenant}');

/**
 * The network-server application a LoRaWAN device belongs to, spelt as its uplink topics
 * spell it: a ChirpStack v4 application id (`application/{id}/...`) or The Things Stack
 * v3 `{application}@{tenant}` (`v3/{application}@{tenant}/...`). A ChirpStack id cannot
 * contain `@`, so the value says which server it names. See ingest/lorawan-binding.ts.
 */
export const LorawanApplication = z.string().regex(
  new RegExp(`^(?:${CHIRPSTACK_APP.source.slice(1, -1)}|${TTS_APP_AT_TENANT.source.slice(1, -1)})$`),
  'expected a ChirpStack application id or a The Things Stack {application}@{tenant}',
);

/** A binding makes sense only where a network server speaks for the device. */
export const BINDING_NEEDS_EUI = 'a LoRaWAN application binding needs the device\'s devEui: only LoRaWAN devices are published by a network server';

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
  /** The ChirpStack application id or TTS `{application}@{tenant}` whose uplinks alone may speak for it. */
  lorawanApplication: LorawanApplication.optional(),
  /** The device profile its decoded uplinks are read with (GET /api/v1/device-profiles); omitted = the generic field names. */
  profile: z.string().regex(PROFILE_ID, 'expected a profile id: lower-case letters, digits, . _ -').optional(),
  reportIntervalS: z.number().int().min(10).max(7 * 86_400).default(900),
  place: Placement.optional(),
}).refine((r) => !(r.lorawanApplication && !r.devEui), { message: BINDING_NEEDS_EUI, path: ['lorawanApplication'] });
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
  /**
   * The network-server application (ChirpStack application id, or TTS `{app}@{tenant}`)
   * the device is bound to; undefined = unbound, any application its dev EUI reaches may
   * speak for it (ingest/lorawan-binding.ts).
   */
  lorawanApplication?: string | undefined;
  /** The device profile its decoded uplinks are read with (ingest/profile-set.ts); undefined = generic names. */
  profile?: string | undefined;
}
