import { z } from 'zod';
import { EntityId } from './device.ts';
import { Severity } from './alert.ts';

/** Notification channels; each robot's base URL is configurable so tests can point it at a local receiver. */
export const Channel = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('webhook'), url: z.url(), secret: z.string().min(8).optional() }),
  z.strictObject({ type: z.literal('wecom'), key: z.string().min(1), baseUrl: z.url().optional() }),
  z.strictObject({ type: z.literal('dingtalk'), accessToken: z.string().min(1), secret: z.string().min(1).optional(), baseUrl: z.url().optional() }),
  z.strictObject({ type: z.literal('feishu'), token: z.string().min(1), secret: z.string().min(1).optional(), baseUrl: z.url().optional() }),
  z.strictObject({ type: z.literal('email'), to: z.array(z.email()).min(1) }),
]);
export type Channel = z.infer<typeof Channel>;

export const ChannelRoute = z.strictObject({
  channel: Channel,
  /** Lowest severity sent to this channel. */
  minSeverity: Severity.default('warning'),
});
export type ChannelRoute = z.infer<typeof ChannelRoute>;

export const Technician = z.strictObject({
  id: EntityId,
  name: z.string().min(1).max(100, 'expected a name of at most 100 characters'),
  phone: z.string().optional(),
  email: z.email().optional(),
});
export type Technician = z.infer<typeof Technician>;

export const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24 h)');
/** Minutes east of UTC, as UTC−12:00 … UTC+14:00. China: 480, one zone, no DST. */
export const UtcOffsetMinutes = z.number().int().min(-720).max(840);

/**
 * A local-time window in which non-critical notifications are held until it ends (critical
 * ones go at once: notify/policy.ts). May cross midnight (22:00–07:00); start == end is
 * no window. `utcOffsetMinutes` reads start/end in another zone than the notify config's.
 */
export const QuietHours = z.strictObject({
  start: ClockTime,
  end: ClockTime,
  utcOffsetMinutes: UtcOffsetMinutes.optional(),
});
export type QuietHours = z.infer<typeof QuietHours>;

/** An O&M contractor team: the communities it answers for, where its alerts go, who escalations reach. */
export const Team = z.strictObject({
  id: EntityId,
  name: z.string().min(1).max(100, 'expected a name of at most 100 characters'),
  communities: z.array(EntityId),
  channels: z.array(ChannelRoute),
  supervisorChannels: z.array(ChannelRoute).default([]),
  technicians: z.array(Technician).default([]),
  /**
   * The team's own quiet hours, replacing the notify config's for its notifications; null: none
   * for this team (a night-duty team) even if the config has them; absent: the config's apply.
   */
  quietHours: QuietHours.nullable().optional(),
});
export type Team = z.infer<typeof Team>;
