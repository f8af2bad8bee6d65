import { createHash } from 'node:crypto';
import type { Channel } from '../../contracts/team.ts';
import type { Delivery, SendContext, SendResult } from './http.ts';
import { sendWebhook } from './webhook.ts';
import { sendWecom } from './wecom.ts';
import { sendDingtalk } from './dingtalk.ts';
import { sendFeishu } from './feishu.ts';
import { createEmailSender, type SmtpConfig } from './email.ts';

export type { Delivery, SendContext, SendResult } from './http.ts';
export type SendToChannel = (channel: Channel, delivery: Delivery, ctx: SendContext) => Promise<SendResult>;

/** One dispatch table: channel type → sender. */
export function createChannelSenders(options: { smtp: SmtpConfig | undefined; timeoutMs: number }): { send: SendToChannel; close(): void } {
  const email = createEmailSender(options.smtp, options.timeoutMs);
  const send: SendToChannel = (channel, delivery, ctx) => {
    switch (channel.type) {
      case 'webhook': return sendWebhook(channel, delivery, ctx);
      case 'wecom': return sendWecom(channel, delivery, ctx);
      case 'dingtalk': return sendDingtalk(channel, delivery, ctx);
      case 'feishu': return sendFeishu(channel, delivery, ctx);
      case 'email': return email.send(channel, delivery, ctx);
    }
  };
  return { send, close: email.close };
}

/**
 * A stable, secret-free name for a channel, for the API and metric labels:
 * `{type}:{first 10 hex of sha256(channel JSON)}` — never the token or URL itself.
 */
export const channelKey = (channel: Channel): string =>
  `${channel.type}:${createHash('sha256').update(JSON.stringify(channel)).digest('hex').slice(0, 10)}`;
