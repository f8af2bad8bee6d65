import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/**
 * Local stand-ins for the robots, verifying requests the way the real services do —
 * written from the vendors' documentation, independently of the code under test — and
 * answering like them (HTTP 200 with an error code when they refuse).
 */
export interface Received { kind: 'dingtalk' | 'feishu' | 'wecom' | 'webhook'; path: string; headers: IncomingMessage['headers']; body: Record<string, unknown>; raw: string }

export interface FakeRobotOptions {
  dingtalk: { accessToken: string; secret: string };
  feishu: { token: string; secret: string };
  wecom: { key: string };
  webhook: { secret: string };
  now?: () => number;
}

const HOUR = 3_600_000;
const json = (res: ServerResponse, status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)); };
const safeEqual = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export async function startFakeRobots(o: FakeRobotOptions) {
  const now = o.now ?? Date.now;
  const received: Received[] = [];
  const refused: Array<{ kind: string; reason: string }> = [];
  const seenDeliveries = new Set<string>();
  const state = { flakyDown: true, hang: true };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://localhost');
      let body: Record<string, unknown> = {};
      try { body = JSON.parse(raw) as Record<string, unknown>; } catch { /* judged below */ }
      const keep = (kind: Received['kind']) => received.push({ kind, path: url.pathname, headers: req.headers, body, raw });
      const refuse = (kind: string, reason: string) => refused.push({ kind, reason });

      if (url.pathname === '/robot/send') {
        // DingTalk: access_token, then timestamp (ms, within an hour) and sign = base64(HMAC(secret, "ts\nsecret")).
        if (url.searchParams.get('access_token') !== o.dingtalk.accessToken) { refuse('dingtalk', 'token'); return json(res, 200, { errcode: 300001, errmsg: 'token is not exist' }); }
        const ts = Number(url.searchParams.get('timestamp'));
        const expected = createHmac('sha256', o.dingtalk.secret).update(`${ts}\n${o.dingtalk.secret}`).digest('base64');
        if (!Number.isFinite(ts) || Math.abs(now() - ts) > HOUR || !safeEqual(url.searchParams.get('sign') ?? '', expected)) {
          refuse('dingtalk', 'sign');
          return json(res, 200, { errcode: 310000, errmsg: 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]' });
        }
        keep('dingtalk');
        return json(res, 200, { errcode: 0, errmsg: 'ok' });
      }
      if (url.pathname.startsWith('/open-apis/bot/v2/hook/')) {
        // Feishu: timestamp in seconds in the body, sign = base64(HMAC(key = "ts\nsecret", empty)).
        if (url.pathname.slice('/open-apis/bot/v2/hook/'.length) !== o.feishu.token) return json(res, 200, { code: 19001, msg: 'param invalid: incoming webhook access token invalid' });
        const ts = Number(body.timestamp);
        const expected = createHmac('sha256', `${ts}\n${o.feishu.secret}`).update(Buffer.alloc(0)).digest('base64');
        if (typeof body.timestamp !== 'string' || Math.abs(now() / 1000 - ts) > 3600 || !safeEqual(String(body.sign ?? ''), expected)) {
          refuse('feishu', 'sign');
          return json(res, 200, { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' });
        }
        keep('feishu');
        return json(res, 200, { code: 0, msg: 'success', data: {} });
      }
      if (url.pathname === '/cgi-bin/webhook/send') {
        if (url.searchParams.get('key') !== o.wecom.key) { refuse('wecom', 'key'); return json(res, 200, { errcode: 93000, errmsg: 'invalid webhook url' }); }
        const content = (body.markdown as { content?: string } | undefined)?.content ?? '';
        if (body.msgtype !== 'markdown' || Buffer.byteLength(content) > 4096) return json(res, 200, { errcode: 40058, errmsg: 'markdown.content exceed max length 4096' });
        keep('wecom');
        return json(res, 200, { errcode: 0, errmsg: 'ok' });
      }
      if (url.pathname === '/hook' || url.pathname === '/flaky') {
        if (url.pathname === '/flaky' && state.flakyDown) return json(res, 503, { error: 'down for maintenance' });
        // Generic webhook: HMAC over the raw bytes, timestamp header = signed body timestamp, fresh, delivery not seen before.
        const signature = String(req.headers['x-greenspace-signature'] ?? '');
        const expected = `sha256=${createHmac('sha256', o.webhook.secret).update(Buffer.concat(chunks)).digest('hex')}`;
        const ts = Number(req.headers['x-greenspace-timestamp']);
        if (!safeEqual(signature, expected)) { refuse('webhook', 'signature'); return json(res, 401, { error: 'bad signature' }); }
        if (body.timestamp !== ts || Math.abs(now() - ts) > 5 * 60_000) { refuse('webhook', 'replay'); return json(res, 401, { error: 'stale or mismatched timestamp' }); }
        const delivery = `${url.pathname}#${String(req.headers['x-greenspace-delivery'])}`;
        if (seenDeliveries.has(delivery)) return json(res, 200, { duplicate: true });
        seenDeliveries.add(delivery);
        keep('webhook');
        return json(res, 200, { ok: true });
      }
      if (url.pathname === '/hang') return; // never answers: the sender's timeout must end it
      json(res, 404, { error: 'no such endpoint' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl, received, refused, state,
    of: (kind: Received['kind'], path?: string) => received.filter((r) => r.kind === kind && (path === undefined || r.path === path)),
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

export interface Mail { from: string; to: string[]; raw: string }

/** A local SMTP server (the smtp-server package) that keeps what it receives. */
export async function startSmtp() {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The readable parts of a MIME message: decoded Subject and every base64 body part. */
export function readMail(raw: string): { subject: string; text: string } {
  const unfolded = raw.replace(/\r?\n[ \t]+/g, ' ');
  const subjectLine = /^Subject: (.*)$/m.exec(unfolded)?.[1] ?? '';
  const subject = subjectLine.replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=\s*/gi, (_m, enc: string, data: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8')
      : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'));
  const parts = [...raw.matchAll(/Content-Transfer-Encoding: base64\r?\n(?:[^\r\n]+\r?\n)*\r?\n([A-Za-z0-9+/=\r\n]+)/g)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64').toString('utf8'));
  return { subject, text: parts.join('\n') };
}
