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

/**
 * The oldest open a valve controller obeys, by its own clock (a close has no age limit:
 * isStaleCommand). A queued QoS 1 command can
 * arrive long after it was decided (a persistent session's queue after a reconnect; in a
 * cluster, a dead node's queued open after the survivor's takeover close), and an open from
 * an hour-long outage describes a decision nobody stands behind any more. Ten minutes is
 * what a command the server still waits for needs, with room to spare: the server re-issues
 * an unacknowledged command with a fresh issuedAt every ackTimeoutS (30 s by default, 3
 * attempts), and a class A LoRaWAN valve hears a downlink only after its next uplink (valves
 * report every 5 minutes by default), so a live command is at most ~5 minutes old on a
 * device whose clock is synchronised (NTP or LoRaWAN DeviceTimeReq: within seconds).
 */
export const COMMAND_MAX_AGE_MS = 10 * 60_000;

/** The `error` of an ack refusing a command as stale (see isStaleCommand). */
export const STALE_COMMAND_ERROR = 'stale';

/**
 * Whether a valve controller must refuse a command as stale: issued before the last command
 * it obeyed (equal is allowed: one decision may send several), or, for an open, more than
 * COMMAND_MAX_AGE_MS before `nowMs` on the device's clock. A command from its future is not
 * stale: the limit is on age, and a clock behind the server's must not stop the valve.
 *
 * The age limit is for opens only. A close is the safe direction and one newer than every
 * command obeyed is the server's latest word: a valve that went offline while watering gets
 * the run's stop (rain, freeze, an operator's pause, the high threshold) from its session's
 * queue when it reconnects, and refused for its age that stop would leave it watering on the
 * overridden open until its auto-off (up to hours).
 */
export function isStaleCommand(cmd: Pick<ValveCommand, 'issuedAt' | 'action'>, lastObeyedIssuedAt: number | undefined, nowMs: number): boolean {
  if (lastObeyedIssuedAt !== undefined && cmd.issuedAt < lastObeyedIssuedAt) return true;
  return cmd.action === 'open' && nowMs - cmd.issuedAt > COMMAND_MAX_AGE_MS;
}

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
