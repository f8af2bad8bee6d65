import type { Channel } from '../../contracts/team.ts';
import { toMarkdown, truncateBytes } from '../message.ts';
import { checkRobotAnswer, postJson, type Sender } from './http.ts';

type WecomChannel = Extract<Channel, { type: 'wecom' }>;

export const WECOM_BASE_URL = 'https://qyapi.weixin.qq.com';
/** WeCom refuses markdown content over 4096 bytes of UTF-8. */
const MAX_BYTES = 4096;

/** WeCom group robot: no signature, the webhook key is the secret; `errcode: 0` means sent. */
export const sendWecom: Sender<WecomChannel> = async (channel, delivery, ctx) => {
  const url = `${(channel.baseUrl ?? WECOM_BASE_URL).replace(/\/+$/, '')}/cgi-bin/webhook/send?key=${encodeURIComponent(channel.key)}`;
  const body = JSON.stringify({ msgtype: 'markdown', markdown: { content: truncateBytes(toMarkdown(delivery.message), MAX_BYTES) } });
  const res = await postJson(url, body, {}, ctx.timeoutMs);
  return res.ok ? checkRobotAnswer(res.value, ['errcode']) : res;
};
