import { z } from 'zod';
import { ChirpstackAppId, EntityId, TtsAppAtTenant } from './device.ts';

/**
 * Who may call the HTTP API. admin: everything, including tokens and MQTT accounts;
 * operator: runs the system (devices, watering) and dispatches and verifies field work;
 * technician: field work on devices, facilities and faults; viewer: reads (the ledger, the
 * scorecard); service: machine clients that provision devices. Action by action:
 * api/policy.ts.
 */
export const ROLES = ['admin', 'operator', 'technician', 'viewer', 'service'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

export const TokenCreate = z.strictObject({
  name: z.string().trim().min(1).max(100),
  role: Role,
  /** Confine the token to these districts; omitted = the whole city. */
  districts: z.array(EntityId).min(1).max(100).optional(),
}).refine((t) => !(t.role === 'admin' && t.districts), { message: 'an admin token cannot be confined to districts', path: ['districts'] });
export type TokenCreate = z.infer<typeof TokenCreate>;

export const TokenView = z.object({
  id: z.string(),
  name: z.string(),
  role: Role,
  districts: z.array(z.string()).optional(),
  createdAt: z.string(),
  revokedAt: z.string().optional(),
});
export type TokenView = z.infer<typeof TokenView>;

/** The caller of one request, settled from its bearer token. */
export const Principal = z.object({
  tokenId: z.string(),
  name: z.string(),
  role: Role,
  districts: z.array(z.string()).optional(),
});
export type Principal = z.infer<typeof Principal>;

/** LoRaWAN network servers (confined to their topic trees) and MQTT admins (diagnosis). */
export const SERVICE_KINDS = ['chirpstack', 'tts', 'admin'] as const;
export const ServiceKind = z.enum(SERVICE_KINDS);
export type ServiceKind = z.infer<typeof ServiceKind>;

// ChirpstackAppId, TtsAppAtTenant: contracts/device.ts, shared with a device's binding.
export const ServiceAccountCreate = z.discriminatedUnion('kind', [
  z.strictObject({ id: EntityId, kind: z.literal('chirpstack'), applications: z.array(ChirpstackAppId).min(1).max(1000) }),
  z.strictObject({ id: EntityId, kind: z.literal('tts'), applications: z.array(TtsAppAtTenant).min(1).max(1000) }),
  z.strictObject({ id: EntityId, kind: z.literal('admin') }),
]);
export type ServiceAccountCreate = z.infer<typeof ServiceAccountCreate>;

export const ServiceAccountView = z.object({
  id: z.string(),
  kind: ServiceKind,
  applications: z.array(z.string()),
  disabled: z.boolean(),
  createdAt: z.string(),
});
export type ServiceAccountView = z.infer<typeof ServiceAccountView>;
