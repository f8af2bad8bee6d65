import { z } from 'zod';
import { EntityId } from './device.ts';

/** Where to move a device: exactly one existing zone, facility or (for devices of neither) community. */
export const DeviceMove = z.union([
  z.strictObject({ zone: EntityId }),
  z.strictObject({ facility: EntityId }),
  z.strictObject({ community: EntityId }),
], { error: 'expected exactly one of zone, facility or community' });
export type DeviceMove = z.infer<typeof DeviceMove>;
