import { createHmac } from 'node:crypto';
import type { Channel } from '../../contracts/team.ts';
import { err, ok } from '../../lib/result.ts';
import { toText } from '../message.ts';
import { postJson, type Sender } from './http.ts';

type WebhookChannel = Extract<Channel, { type: 'webhook' }>;

export const SIGNATURE_HEADER = 'x-greenspace-signature';
export const TIMESTAMP_HEADER = 'x-greenspace-timestamp';
export const DELIVERY_HEADER = 'x-greenspace-delivery';

/**
 * The generic webhook scheme (notify/README.md, "Generic webhook signature", for receivers):
 *   X-Greenspace-Signature: sha256=<lowercase hex HMAC-SHA256(secret, raw body bytes)>
 *   X-Greenspace-Timestamp: <epoch ms of this attempt>, equal to the body's `timestamp`
 *   X-Greenspace-Delivery:  <delivery id>, the same on every retry of one message
 * The timestamp sits inside the signed body, so it cannot be altered without breaking the
 * signature; a receiver rejects a body whose timestamp is too old (replay) or differs from
 * the header, and drops delivery ids it has already processed (retries).
 */
export const signWebhookBody = (secret: string, rawBody: string | Buffer): string => `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;

export const sendWebhook: Sender<WebhookChannel> = async (channel, delivery, ctx) => {
  const body = JSON.stringify({
    version: 1,
    deliveryId: delivery.id,
    timestamp: ctx.now,
    team: delivery.teamId,
    audience: delivery.audience,
    title: delivery.message.title,
    text: toText(delivery.message),
    alerts: delivery.alerts,
  });
  const headers: Record<string, string> = { [TIMESTAMP_HEADER]: String(ctx.now), [DELIVERY_HEADER]: String(delivery.id) };
  if (channel.secret) headers[SIGNATURE_HEADER] = signWebhookBody(channel.secret, body);
  const res = await postJson(channel.url, body, headers, ctx.timeoutMs);
  if (!res.ok) return res;
  return res.value.status >= 200 && res.value.status < 300 ? ok(undefined) : err(`HTTP ${res.value.status}: ${res.value.text.slice(0, 200)}`);
};
