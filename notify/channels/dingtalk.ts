import { createHmac } from 'node:crypto';
import type { Channel } from '../../contracts/team.ts';
import { toMarkdown, truncateBytes } from '../message.ts';
import { checkRobotAnswer, postJson, type Sender } from './http.ts';

type DingtalkChannel = Extract<Channel, { type: 'dingtalk' }>;

export const DINGTALK_BASE_URL = 'https://oapi.dingtalk.com';
/** DingTalk accepts about 20,000 bytes of markdown; stay under it. */
const MAX_BYTES = 18_000;

/**
 * DingTalk custom robot "加签": sign = base64(HMAC-SHA256(key = secret, message = "{timestamp}\n{secret}")),
 * timestamp in epoch ms; both go in the query string (the sign URL-encoded). DingTalk
 * refuses a timestamp more than an hour from its clock.
 */
export const signDingtalk = (secret: string, timestampMs: number): string =>
  createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');

export function dingtalkUrl(channel: DingtalkChannel, timestampMs: number): string {
  const base = `${(channel.baseUrl ?? DINGTALK_BASE_URL).replace(/\/+$/, '')}/robot/send?access_token=${encodeURIComponent(channel.accessToken)}`;
  return channel.secret ? `${base}&timestamp=${timestampMs}&sign=${encodeURIComponent(signDingtalk(channel.secret, timestampMs))}` : base;
}

export const sendDingtalk: Sender<DingtalkChannel> = async (channel, delivery, ctx) => {
  // DingTalk markdown needs a blank line to break a line.
  const mobiles = delivery.mentionMobiles ?? [];
  // DingTalk only rings a mentioned member when "@{mobile}" also appears in the text.
  const mentions = mobiles.length > 0 ? `\n\n${mobiles.map((m) => `@${m}`).join(' ')}` : '';
  const text = truncateBytes(toMarkdown(delivery.message, '\n\n'), MAX_BYTES - Buffer.byteLength(mentions)) + mentions;
  const body = JSON.stringify({ msgtype: 'markdown', markdown: { title: delivery.message.title, text }, at: { atMobiles: mobiles, isAtAll: false } });
  const res = await postJson(dingtalkUrl(channel, ctx.now), body, {}, ctx.timeoutMs);
  return res.ok ? checkRobotAnswer(res.value, ['errcode']) : res;
};
