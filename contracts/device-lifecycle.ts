import { z } from 'zod';
import { EntityId, LorawanApplication } from './device.ts';

/** Where to move a device: exactly one existing zone, facility or (for devices of neither) community. */
export const DeviceMove = z.union([
  z.strictObject({ zone: EntityId }),
  z.strictObject({ facility: EntityId }),
  z.strictObject({ community: EntityId }),
], { error: 'expected exactly one of zone, facility or community' });
export type DeviceMove = z.infer<typeof DeviceMove>;

/**
 * Bind a registered device to its network-server application, or unbind it (null). The
 * key is required: an empty body must not read as "unbind". Only a device with a devEui
 * may be bound (registry/device-lifecycle.ts checks it against the stored device).
 */
const BINDING_VALUE = 'a ChirpStack application id or a The Things Stack {application}@{tenant} to bind, or null to unbind';
export const DeviceBinding = z.strictObject({
  lorawanApplication: z.union([LorawanApplication, z.null()], {
    // A wrong string keeps LorawanApplication's own message; these say what else was expected.
    error: (issue) => (issue.input === undefined ? `required: ${BINDING_VALUE}` : typeof issue.input !== 'string' ? `expected ${BINDING_VALUE}` : undefined),
  }),
});
export type DeviceBinding = z.infer<typeof DeviceBinding>;
