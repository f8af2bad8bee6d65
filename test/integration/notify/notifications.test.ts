import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../app.ts';
import type { Alert, AlertTransition } from '../../../contracts/alert.ts';
import type { NotifyConfigInput } from '../../../notify/config.ts';
import { ADMIN_TOKEN, eventually, queryRows } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { createInfluxHttp } from '../../../influx/http.ts';
import { readMail, startFakeRobots, startSmtp } from './fake-robots.ts';
import { startNotifyApp } from './notify-app.ts';
import { checkAckLink } from '../../../lib/signed-link.ts';

const SECRETS = {
  dingtalk: { accessToken: 'ding-token-1', secret: 'SECdingtalk-secret-0123456789' },
  feishu: { token: 'feishu-hook-uuid-1', secret: 'feishu-secret-abc' },
  wecom: { key: 'wecom-key-693a91f6' },
  webhook: { secret: 'whsec-greenspace-0123' },
};
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('notifications: alert transitions → signed robot messages, email, retries, restart', () => {
  let robots: Awaited<ReturnType<typeof startFakeRobots>>;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let app: App;
  let dataDir: string;
  let influxDb: string;
  let notify: NotifyConfigInput;

  const alert = (id: number, over: Partial<Alert> = {}): Alert => ({
    id, kind: 'facility_impact', subject: `pav-${id}`, severity: 'warning', state: 'firing', message: `凉亭受到撞击：冲击 3.2 g（#${id}）`,
    communityId: 'c-001', districtId: 'taobei', firstFiredAt: Date.now(), lastChangedAt: Date.now(), acknowledgedBy: null, details: { shock: 3.2 }, ...over,
  });
  const transition = (a: Alert, to: AlertTransition['to'], from: AlertTransition['from'] = undefined): void =>
    app.notifications.onTransition({ alert: { ...a, state: to === 'acknowledged' || to === 'resolved' ? to : a.state }, from, to, at: Date.now() });
  const api = async (url: string) => {
    const res = await app.api.inject({ url, headers: auth });
    expect(res.statusCode).toBe(200);
    return res.json() as Array<Record<string, unknown>>;
  };
  const webhookAlerts = (path: string) => robots.of('webhook', path).map((r) => ({
    audience: r.body.audience, entries: (r.body.alerts as Array<{ reason: string; alert: Alert }>).map((e) => [e.alert.id, e.reason]),
  }));

  beforeAll(async () => {
    robots = await startFakeRobots(SECRETS);
    smtp = await startSmtp();
    const hook = `${robots.baseUrl}/hook`;
    notify = {
      groupWindowS: 1, tickMs: 50,
      reminderIntervalS: { info: 0, warning: 1, critical: 1 },
      escalateAfterS: { info: 0, warning: 0, critical: 2 },
      ackBaseUrl: 'https://ops.example.cn/alerts',
      delivery: { concurrency: 4, timeoutMs: 500, maxAttempts: 100, backoffBaseMs: 100, backoffMaxMs: 300, pollMs: 50 },
      smtp: { host: '127.0.0.1', port: smtp.port, from: 'greenspace@example.cn' },
      teams: [
        {
          id: 'team-a', name: '养护一队', communities: ['c-001'],
          channels: [
            { channel: { type: 'wecom', key: SECRETS.wecom.key, baseUrl: robots.baseUrl }, minSeverity: 'warning' },
            { channel: { type: 'dingtalk', ...SECRETS.dingtalk, baseUrl: robots.baseUrl }, minSeverity: 'warning' },
            { channel: { type: 'feishu', ...SECRETS.feishu, baseUrl: robots.baseUrl }, minSeverity: 'warning' },
            { channel: { type: 'webhook', url: hook, secret: SECRETS.webhook.secret }, minSeverity: 'info' },
            { channel: { type: 'email', to: ['tech-a@example.cn'] }, minSeverity: 'warning' },
          ],
          supervisorChannels: [{ channel: { type: 'webhook', url: `${hook}?supervisor=1`, secret: SECRETS.webhook.secret }, minSeverity: 'warning' }],
          technicians: [{ id: 'tech-wang', name: '王师傅', phone: '13900000002' }],
        },
        {
          id: 'team-down', name: '故障演示队', communities: ['c-down'],
          channels: [
            { channel: { type: 'webhook', url: `http://127.0.0.1:${await closedPort()}/hook`, secret: SECRETS.webhook.secret }, minSeverity: 'info' },
            { channel: { type: 'webhook', url: `${robots.baseUrl}/hang`, secret: SECRETS.webhook.secret }, minSeverity: 'info' },
            { channel: { type: 'dingtalk', accessToken: SECRETS.dingtalk.accessToken, secret: 'SECwrong-secret', baseUrl: robots.baseUrl }, minSeverity: 'info' },
          ],
        },
        { id: 'team-flaky', name: '重启演示队', communities: ['c-flaky'], channels: [{ channel: { type: 'webhook', url: `${robots.baseUrl}/flaky`, secret: SECRETS.webhook.secret }, minSeverity: 'info' }] },
      ],
    };
    const started = await startNotifyApp(notify);
    app = started.app;
    dataDir = started.dataDir;
    influxDb = started.config.influxDb;
  });
  afterAll(async () => {
    await app?.stop({ drainMs: 1_000 });
    await robots?.close();
    await smtp?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers one firing alert to WeCom, DingTalk, Feishu, the webhook and email, each accepted by its receiver', async () => {
    const a = alert(101);
    transition(a, 'firing');
    await eventually(() => (robots.of('wecom').length && robots.of('dingtalk').length && robots.of('feishu').length && robots.of('webhook', '/hook').length && smtp.mails.length ? true : undefined), 10_000, 'every channel');
    expect(robots.refused).toEqual([]);

    const wecom = (robots.of('wecom')[0]!.body.markdown as { content: string }).content;
    expect(wecom).toContain('设施受撞击/突变');
    expect(wecom).toContain('#101 facility_impact');
    expect(wecom).toContain('taobei / c-001 / 设施 pav-101');
    // The one-tap link is signed for this alert and this team, on the app's own address (GS_PUBLIC_URL unset).
    const link = /\((http:\/\/127\.0\.0\.1:\d+\/app\/ack\/101\?[^)\s]+)\)/.exec(wecom)?.[1];
    expect(link).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${app.httpPort}/app/ack/101\\?r=team-a&x=\\d+&s=`));
    const q = new URL(link!).searchParams;
    const key = Buffer.from(readFileSync(join(dataDir, 'link-key'), 'utf8').trim(), 'hex');
    expect(checkAckLink(key, { alertId: 101, recipient: 'team-a', expiresAtS: Number(q.get('x')) }, q.get('s')!, Date.now())).toBe('ok');
    const ding = robots.of('dingtalk')[0]!.body as { msgtype: string; markdown: { title: string; text: string } };
    expect(ding.msgtype).toBe('markdown');
    expect(ding.markdown.title).toBe('【警告】设施受撞击/突变 pav-101 · c-001');
    const feishu = robots.of('feishu')[0]!.body as { msg_type: string; content: { post: { zh_cn: { title: string; content: Array<Array<{ tag: string; href?: string }>> } } } };
    expect(feishu.msg_type).toBe('post');
    expect(feishu.content.post.zh_cn.content.flat().find((e) => e.tag === 'a')?.href).toBe(link);
    const hook = robots.of('webhook', '/hook')[0]!;
    expect(hook.body).toMatchObject({ version: 1, team: 'team-a', audience: 'team', alerts: [{ reason: 'firing', ackUrl: link, alert: { id: 101, kind: 'facility_impact' } }] });
    expect(hook.headers['x-greenspace-delivery']).toBe(String(hook.body.deliveryId));

    const mail = smtp.mails[0]!;
    expect(mail.to).toEqual(['tech-a@example.cn']);
    const { subject, text } = readMail(mail.raw);
    expect(subject).toBe('【警告】设施受撞击/突变 pav-101 · c-001');
    expect(text).toContain('位置：taobei / c-001 / 设施 pav-101');
    expect(text.replace(/=?\r?\n/g, '')).toContain(link);
  });

  it('repeats reminders until the alert is acknowledged, then stops', async () => {
    const a = alert(101);
    await eventually(() => (webhookAlerts('/hook').filter((m) => m.entries.some(([id, reason]) => id === 101 && reason === 'reminder')).length >= 2 ? true : undefined), 10_000, 'two reminders');
    transition(a, 'acknowledged', 'firing');
    // What was already in the outbox drains: every row of the alert sent (marked so only once its
    // receiver accepted it). A reminder still in a group window is not waited for: the
    // acknowledgement must drop it, and if it did not, it arrives in the window below.
    await eventually(async () => {
      const rows = await api('/api/v1/notifications?alert=101&limit=1000');
      return rows.length > 0 && rows.every((r) => r.state === 'sent') ? true : undefined;
    }, 10_000, 'the outbox rows of alert 101 delivered');
    const count = robots.of('webhook', '/hook').length;
    const wecomCount = robots.of('wecom').length;
    // "No reminder after the acknowledgement" is an absence, so it gets time to show up in:
    // more than two reminder intervals plus the group window.
    await sleep(2_500);
    expect(robots.of('webhook', '/hook').length).toBe(count);
    expect(robots.of('wecom').length).toBe(wecomCount);
    const rows = await api('/api/v1/notifications?alert=101&limit=1000');
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(rows.every((r) => r.state === 'sent')).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(SECRETS.webhook.secret);
    expect(JSON.stringify(rows)).not.toContain(SECRETS.dingtalk.secret);
  });

  it('escalates an unacknowledged critical alert to the supervisor channel, and @-mentions the technicians on DingTalk', async () => {
    const a = alert(102, { severity: 'critical' });
    transition(a, 'firing');
    const ding = await eventually(() => robots.of('dingtalk').find((r) => (r.body.markdown as { text: string }).text.includes('#102 ')), 10_000, 'the critical DingTalk message');
    expect(ding.body.at).toEqual({ atMobiles: ['13900000002'], isAtAll: false });
    expect((ding.body.markdown as { text: string }).text).toMatch(/@13900000002$/);
    expect(robots.of('dingtalk')[0]!.body.at).toEqual({ atMobiles: [], isAtAll: false }); // the warning of the first test rang nobody
    const escalation = await eventually(() => webhookAlerts('/hook').find((m) => m.audience === 'supervisor' && m.entries.some(([id, r]) => id === 102 && r === 'escalation')), 10_000, 'the escalation');
    expect(escalation.entries).toEqual([[102, 'escalation']]);
    transition(a, 'resolved', 'firing');
    await eventually(() => webhookAlerts('/hook').find((m) => m.audience === 'supervisor' && m.entries.some(([id, r]) => id === 102 && r === 'resolved')), 10_000, 'the supervisor told of the resolution');
  });

  it('retries endpoints that are down, refuse the signature or hang, reports them in the API and /metrics, while ingest keeps working', async () => {
    transition(alert(201, { communityId: 'c-down', severity: 'info' }), 'firing');
    const rows = await eventually(async () => {
      const r = await api('/api/v1/notifications?alert=201&state=pending');
      return r.length === 3 && r.every((x) => Number(x.attempts) >= 2) ? r : undefined;
    }, 15_000, 'three failing channels retried');
    const errors = rows.map((r) => String(r.lastError)).sort();
    expect(errors[0]).toMatch(/^ECONNREFUSED/);
    expect(errors[1]).toMatch(/^errcode 310000: sign not match/);
    expect(errors[2]).toBe('timeout after 500 ms');
    expect(robots.refused).toContainEqual({ kind: 'dingtalk', reason: 'sign' });
    expect((await api('/api/v1/notifications?channel=dingtalk&state=pending')).map((r) => r.alertIds)).toEqual([[201]]);

    const metrics = (await app.api.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/gs_notify_send_failures_total\{channel_type="webhook",channel="webhook:[0-9a-f]{10}"\} [2-9]/);
    expect(metrics).toMatch(/gs_notify_send_failures_total\{channel_type="dingtalk",channel="dingtalk:[0-9a-f]{10}"\} [2-9]/);
    expect(metrics).toMatch(/gs_notify_sent_total\{channel_type="wecom",channel="wecom:[0-9a-f]{10}"\} [1-9]/);
    expect(metrics).toMatch(/gs_notify_outbox_pending [3-9]/);

    // The rest of the app is unaffected: a device's readings go through to InfluxDB.
    const reg = await app.api.inject({ method: 'POST', url: '/api/v1/devices', headers: auth, payload: { id: 'tilt-9', kind: 'tilt', place: { district: 'taobei', community: 'c-down', facility: 'pav-9' } } });
    expect(reg.statusCode).toBe(201);
    const client = await connect(app.mqttPort, { clientId: 'tilt-9', username: 'tilt-9', password: (reg.json() as { secret: string }).secret });
    const base = Date.now() - 10_000;
    for (let seq = 1; seq <= 50; seq++) await publish(client, 'gs/tilt-9/up', JSON.stringify({ ts: base + seq, seq, pitch: 0.5, roll: 0.1 }), 1);
    client.end();
    const influx = createInfluxHttp({ url: app.influxUrl, db: influxDb });
    await eventually(async () => {
      const r = await queryRows(influx, `SELECT count(pitch) FROM tilt WHERE device = 'tilt-9'`);
      return Number(r[0]?.count) === 50 ? true : undefined;
    }, 10_000, '50 readings in InfluxDB');
  });

  it('keeps an undelivered notification across a restart and delivers it once the endpoint is back', async () => {
    transition(alert(301, { communityId: 'c-flaky', severity: 'info' }), 'firing');
    const [row] = await eventually(async () => {
      const r = await api('/api/v1/notifications?alert=301&state=pending');
      return r.length === 1 && Number(r[0]!.attempts) >= 1 ? r : undefined;
    }, 10_000, 'a failed attempt at the flaky endpoint');
    expect(row!.lastError).toMatch(/^HTTP 503/);

    await app.stop({ drainMs: 500 });
    robots.state.flakyDown = false;
    app = (await startNotifyApp(notify, { dataDir, influxDb })).app;
    const delivered = await eventually(() => robots.of('webhook', '/flaky')[0], 10_000, 'the delivery after restart');
    expect(delivered.headers['x-greenspace-delivery']).toBe(String(row!.id));
    expect(delivered.body.alerts).toEqual([expect.objectContaining({ reason: 'firing', alert: expect.objectContaining({ id: 301 }) })]);
    await eventually(async () => ((await api('/api/v1/notifications?alert=301'))[0]?.state === 'sent' ? true : undefined), 5_000, 'sent in the API');
  });

  it('creates, lists and deletes silences through the API, and a silence holds notifications', async () => {
    const ends = new Date(Date.now() + 3_600_000).toISOString();
    const bad = await app.api.inject({ method: 'POST', url: '/api/v1/silences', headers: auth, payload: { endsAt: ends, comment: '全部静默' } });
    expect(bad.statusCode).toBe(400);
    const created = await app.api.inject({ method: 'POST', url: '/api/v1/silences', headers: auth, payload: { communityId: 'c-001', kind: 'battery_low', endsAt: ends, comment: '更换电池' } });
    expect(created.statusCode).toBe(201);
    const silence = created.json() as { id: number; active: boolean };
    expect(silence.active).toBe(true);
    expect((await api('/api/v1/silences')).map((s) => s.id)).toEqual([silence.id]);

    const before = robots.of('webhook', '/hook').length;
    transition(alert(401, { kind: 'battery_low', subject: 'soil-1', severity: 'info' }), 'firing');
    transition(alert(402, { kind: 'device_offline', subject: 'soil-2', severity: 'info' }), 'firing');
    await eventually(() => webhookAlerts('/hook').find((m) => m.entries.some(([id]) => id === 402)), 10_000, 'the unsilenced alert');
    expect(webhookAlerts('/hook').slice(before).flatMap((m) => m.entries.map(([id]) => id))).not.toContain(401);

    expect((await app.api.inject({ method: 'DELETE', url: `/api/v1/silences/${silence.id}`, headers: auth })).statusCode).toBe(204);
    expect((await app.api.inject({ method: 'DELETE', url: `/api/v1/silences/${silence.id}`, headers: auth })).statusCode).toBe(404);
    await eventually(() => webhookAlerts('/hook').find((m) => m.entries.some(([id]) => id === 401)), 10_000, 'the held alert once the silence is gone');
    expect((await app.api.inject({ url: '/api/v1/silences' })).statusCode).toBe(401);
    expect((await app.api.inject({ method: 'POST', url: '/api/v1/notifications/999999/retry', headers: auth })).statusCode).toBe(404);
  });
});
