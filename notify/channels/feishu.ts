import { createHmac } from 'node:crypto';
import type { Channel } from '../../contracts/team.ts';
import { checkRobotAnswer, postJson, type Sender } from './http.ts';

type FeishuChannel = Extract<Channel, { type: 'feishu' }>;

export const FEISHU_BASE_URL = 'https://open.feishu.cn';

/**
 * Feishu/Lark custom bot signature: base64(HMAC-SHA256(key = "{timestamp}\n{secret}",
 * message = empty)), timestamp in epoch *seconds*, both in the JSON body. The key is the
 * joined string — the reverse of DingTalk — as in Feishu's own sample code.
 */
export const signFeishu = (secret: string, timestampS: number): string =>
  createHmac('sha256', `${timestampS}\n${secret}`).update('').digest('base64');

export const sendFeishu: Sender<FeishuChannel> = async (channel, delivery, ctx) => {
  const url = `${(channel.baseUrl ?? FEISHU_BASE_URL).replace(/\/+$/, '')}/open-apis/bot/v2/hook/${encodeURIComponent(channel.token)}`;
  const [, ...rest] = delivery.message.lines; // the first line is the title
  const content = {
    post: {
      zh_cn: {
        title: delivery.message.title,
        content: rest.map((l) => [
          { tag: 'text', text: l.text },
          ...(l.link ? [{ tag: 'a', text: l.link.label, href: l.link.href }] : []),
        ]),
      },
    },
  };
  const timestamp = Math.floor(ctx.now / 1000);
  const signed = channel.secret ? { timestamp: String(timestamp), sign: signFeishu(channel.secret, timestamp) } : {};
  const body = JSON.stringify({ ...signed, msg_type: 'post', content });
  const res = await postJson(url, body, {}, ctx.timeoutMs);
  return res.ok ? checkRobotAnswer(res.value, ['code', 'StatusCode']) : res;
};
