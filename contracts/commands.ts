import { z } from 'zod';

/**
 * Valve commands on gs/{valveId}/down and their acknowledgements on gs/{valveId}/ack.
 * Every open carries a device-side auto-off, so a lost "close" cannot flood a bed.
 */
export const ValveCommand = z.strictObject({
  commandId: z.string().min(1).max(64),
  action: z.enum(['open', 'close']),
  /** Seconds after which the valve closes by itself (open only). */
  autoOffS: z.number().int().min(1).max(6 * 3600).optional(),
  /** Epoch ms the command was issued. */
  issuedAt: z.number().int(),
}).refine((c) => c.action === 'close' || c.autoOffS !== undefined, { message: 'an open command needs autoOffS', path: ['autoOffS'] });
export type ValveCommand = z.infer<typeof ValveCommand>;

export const CommandAck = z.object({
  commandId: z.string().min(1).max(64),
  ok: z.boolean(),
  /** The valve's state after obeying: 1 open, 0 closed. */
  state: z.union([z.literal(0), z.literal(1)]),
  error: z.string().max(200).optional(),
  ts: z.number().int().optional(),
});
export type CommandAck = z.infer<typeof CommandAck>;

/** Retained on gs/{deviceId}/status; the broker publishes `offline` as the device's last will. */
export const DeviceStatus = z.object({
  state: z.enum(['online', 'offline']),
  ts: z.number().int().optional(),
});
export type DeviceStatus = z.infer<typeof DeviceStatus>;
