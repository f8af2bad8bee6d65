import { createHmac, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signDingtalk, dingtalkUrl } from '../../../notify/channels/dingtalk.ts';
import { signFeishu } from '../../../notify/channels/feishu.ts';
import { signWebhookBody } from '../../../notify/channels/webhook.ts';

/**
 * Known answers computed outside Node with the OpenSSL CLI, e.g. for DingTalk
 *   printf '%s\n%s' 1700000000000 "$S" | openssl dgst -sha256 -hmac "$S" -binary | base64
 * and for Feishu (key = "{ts}\n{secret}", empty message)
 *   printf '' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$(printf '%s\n%s' 1700000000 "$S" | xxd -p) -binary | base64
 * Neither vendor publishes a numeric test vector; both schemes follow their sample code.
 */
const DING_SECRET = 'SECb6b1c0c6b6e9f0a1d2c3b4a5968778695a4b3c2d1e0f';
const FEISHU_SECRET = 'q8Ea1Zr4kdVS6hvYbDAbte';

const subtleHmacBase64 = async (key: string, message: string): Promise<string> => {
  const k = await webcrypto.subtle.importKey('raw', new TextEncoder().encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return Buffer.from(await webcrypto.subtle.sign('HMAC', k, new TextEncoder().encode(message))).toString('base64');
};

describe('DingTalk robot signature', () => {
  it('matches the OpenSSL known answer', () => {
    expect(signDingtalk(DING_SECRET, 1_700_000_000_000)).toBe('cdxmgijiS8dk5dv3fv3ocQwm7nwre8oXNvA/iwp9JKQ=');
  });

  it.each([1_600_000_000_000, 1_764_150_000_123, 1])('agrees with WebCrypto for timestamp %s (key = secret, message = "ts\\nsecret")', async (ts) => {
    expect(signDingtalk(DING_SECRET, ts)).toBe(await subtleHmacBase64(DING_SECRET, `${ts}\n${DING_SECRET}`));
  });

  it('puts timestamp and the URL-encoded sign in the query string', () => {
    const url = new URL(dingtalkUrl({ type: 'dingtalk', accessToken: 'tok en', secret: DING_SECRET, baseUrl: 'http://127.0.0.1:9/' }, 1_700_000_000_000));
    expect(url.pathname).toBe('/robot/send');
    expect(url.searchParams.get('access_token')).toBe('tok en');
    expect(url.searchParams.get('timestamp')).toBe('1700000000000');
    expect(url.searchParams.get('sign')).toBe('cdxmgijiS8dk5dv3fv3ocQwm7nwre8oXNvA/iwp9JKQ=');
    // '/', '+' and '=' must arrive encoded, or DingTalk decodes a different sign.
    expect(url.search).toContain('sign=cdxmgijiS8dk5dv3fv3ocQwm7nwre8oXNvA%2Fiwp9JKQ%3D');
  });

  it('sends no signature when the robot has no secret', () => {
    expect(dingtalkUrl({ type: 'dingtalk', accessToken: 't' }, 5)).toBe('https://oapi.dingtalk.com/robot/send?access_token=t');
  });
});

describe('Feishu bot signature', () => {
  it('matches the OpenSSL known answer (seconds, key = "ts\\nsecret", empty message)', () => {
    expect(signFeishu(FEISHU_SECRET, 1_700_000_000)).toBe('/DTrPc7dDQNhyNni783y3jEs5N3TVgaZHDPHmKKcwN0=');
  });

  it.each([1_599_360_473, 1_764_150_000])('agrees with WebCrypto for timestamp %s', async (ts) => {
    expect(signFeishu(FEISHU_SECRET, ts)).toBe(await subtleHmacBase64(`${ts}\n${FEISHU_SECRET}`, ''));
  });

  it('differs from the DingTalk arrangement (key and message are not interchangeable)', () => {
    const dingStyle = createHmac('sha256', FEISHU_SECRET).update(`1700000000\n${FEISHU_SECRET}`).digest('base64');
    expect(signFeishu(FEISHU_SECRET, 1_700_000_000)).not.toBe(dingStyle);
  });
});

describe('generic webhook signature', () => {
  it('is sha256=<hex HMAC of the raw UTF-8 body> (OpenSSL known answer)', () => {
    expect(signWebhookBody('whsec-0123456789', '{"a":"绿地"}')).toBe('sha256=6b7295cd0ce8492b52768058847add4304e6b1afae084529dcc5dc05728b72e8');
  });

  it('changes when one byte of the body changes', () => {
    expect(signWebhookBody('whsec-0123456789', '{"a":"绿地 "}')).not.toBe(signWebhookBody('whsec-0123456789', '{"a":"绿地"}'));
  });
});
