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
  name: z.string().min(1),
  phone: z.string().optional(),
  email: z.email().optional(),
});
export type Technician = z.infer<typeof Technician>;

/** An O&M contractor team: the communities it answers for, where its alerts go, who escalations reach. */
export const Team = z.strictObject({
  id: EntityId,
  name: z.string().min(1),
  communities: z.array(EntityId),
  channels: z.array(ChannelRoute),
  supervisorChannels: z.array(ChannelRoute).default([]),
  technicians: z.array(Technician).default([]),
});
export type Team = z.infer<typeof Team>;
