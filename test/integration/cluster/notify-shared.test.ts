import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../registry/db.ts';
import type { Sql } from '../../../registry/sql/port.ts';
import { createPostgresSql } from '../../../registry/sql/postgres.ts';
import { migratePostgres } from '../../../registry/sql/pg-migrate.ts';
import { systemClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { NotifyConfig, type NotifyConfigInput } from '../../../notify/config.ts';
import { createNotificationService, type NotificationDeps, type NotificationService } from '../../../notify/service.ts';
import { staticTeams } from '../../../notify/teams.ts';
import { Team } from '../../../contracts/team.ts';
import type { Alert, AlertTransition } from '../../../contracts/alert.ts';
import { createAlertService } from '../../../alerts/alert-service.ts';
import { createAlertStore } from '../../../alerts/alert-store.ts';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../helpers/app.ts';

interface Hit { delivery: string; alerts: Array<{ id: number; reason: string }>; at: number }

/** A third-party webhook endpoint: records each POST's delivery id and the alerts it carries, answers 200 after `delayMs`. */
async function startReceiver(delayMs = 5) {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts: Array<{ reason: string; alert: { id: number } }> };
      hits.push({ delivery: String(req.headers['x-greenspace-delivery']), alerts: body.alerts.map((a) => ({ id: a.alert.id, reason: a.reason })), at: Date.now() });
      setTimeout(() => res.writeHead(200).end('ok'), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, hits, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const alertOf = (id: number, over: Partial<Alert> = {}): Alert => ({
  id, kind: 'facility_tilt', subject: `pav-${id}`, severity: 'critical', state: 'firing', message: `倾斜 ${id}°`,
  communityId: `c-${id % 2}`, districtId: 'd-1', firstFiredAt: Date.now(), lastChangedAt: Date.now(), acknowledgedBy: null, details: null, ...over,
});
const firing = (alert: Alert): AlertTransition => ({ alert, from: undefined, to: 'firing', at: Date.now() });

async function until(ok: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Two nodes' notification services (notifier and outbox worker, each its own pool and its own
 * SQLite for what stays per node) over one real PostgreSQL, on the real clock and timers, sending
 * to one fake webhook endpoint: each message is sent once cluster-wide however both nodes tick,
 * a node that dies holding a claim does not lose the message, and a silence set on one node
 * holds on the other.
 */
describe('notifications shared in PostgreSQL by two nodes', () => {
  let pg: TestPostgres;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const pools: Sql[] = [];
  const dbs: Db[] = [];
  let running: NotificationService[] = [];

  beforeAll(async () => {
    pg = await startTestPostgres();
    receiver = await startReceiver();
  });
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
  });
  afterAll(async () => {
    for (const p of pools.splice(0)) await p.close();
    for (const db of dbs.splice(0)) db.close();
    await receiver?.close();
    await pg?.stop();
  });

  /** A fresh database and `n` nodes over it, started (their timers run). */
  async function nodes(n: number, config: NotifyConfigInput = {}, extra: (i: number) => Partial<NotificationDeps> = () => ({})) {
    const url = await pg.createDatabase();
    const team = Team.parse({ id: 'team-a', name: '养护一队', communities: ['c-0', 'c-1'], channels: [{ channel: { type: 'webhook', url: receiver.url }, minSeverity: 'info' }] });
    const notified: AlertTransition[] = [];
    const services = [];
    for (let i = 0; i < n; i++) {
      const sql = createPostgresSql({ url });
      pools.push(sql);
      if (i === 0) await migratePostgres(sql);
      const db = openDb(':memory:');
      dbs.push(db);
      const service = createNotificationService({
        db, sql, clock: systemClock, random: Math.random, logger: createLogger('silent'), registry: new Registry(), teamsFor: staticTeams([team]),
        config: NotifyConfig.parse({ groupWindowS: 0, tickMs: 10, reminderIntervalS: { critical: 0 }, escalateAfterS: { critical: 0 }, delivery: { pollMs: 10, concurrency: 4 }, ...config }),
        claimant: `node-${i}`, onNotified: (t) => notified.push(t), alertStateOf: (q, id) => createAlertStore(q).stateOf(id), ...extra(i),
      });
      await service.start();
      running.push(service);
      services.push(service);
    }
    return { services, sql: pools.at(-1)!, sqls: pools.slice(-n), notified, hitsBefore: receiver.hits.length };
  }

  const hitsSince = (from: number) => receiver.hits.slice(from);

  it('sends every outbox row once, and announces every alert once, while both nodes tick and work the outbox', async () => {
    const { services: [a, b], sql, hitsBefore } = await nodes(2);
    const alerts = Array.from({ length: 60 }, (_, i) => alertOf(1_000 + i));
    // Each transition is fed to the node that wrote it (here: alternately), in bursts, while both tick.
    for (let i = 0; i < alerts.length; i++) {
      (i % 2 ? a! : b!).onTransition(firing(alerts[i]!));
      if (i % 10 === 9) await sleep(15);
    }
    const rows = async () => sql.all<{ id: number; state: string }>('SELECT id, state FROM notify_outbox');
    await until(async () => { const r = await rows(); return r.length > 0 && r.every((x) => x.state === 'sent') && hitsSince(hitsBefore).length === r.length
      && new Set(hitsSince(hitsBefore).flatMap((h) => h.alerts.map((x) => x.id))).size === alerts.length; });
    await sleep(300); // a late duplicate would show here
    const hits = hitsSince(hitsBefore);
    const outbox = await rows();
    expect(hits.map((h) => Number(h.delivery)).sort((x, y) => x - y)).toEqual(outbox.map((r) => r.id).sort((x, y) => x - y)); // each row sent once
    const announced = hits.flatMap((h) => h.alerts.filter((x) => x.reason === 'firing').map((x) => x.id));
    expect(announced.sort((x, y) => x - y)).toEqual(alerts.map((x) => x.id)); // each alert in one message
    expect(await sql.one('SELECT COUNT(*) AS n FROM notify_pending')).toEqual({ n: 0 });
  });

  it('two workers claiming one backlog at once take different rows: each sent once', async () => {
    const { services: [a, b], sql, hitsBefore } = await nodes(2, { delivery: { pollMs: 10, concurrency: 16 } });
    for (const s of [a!, b!]) await s.worker.stop();
    const channel = { type: 'webhook' as const, url: receiver.url };
    for (let i = 0; i < 300; i++) {
      await a!.outbox.enqueue([{ teamId: 'team-a', audience: 'team', channel, payload: { message: { title: `t${i}`, lines: [] }, alerts: [{ reason: 'firing', ackUrl: 'u', alert: alertOf(5_000 + i) }] } }], Date.now());
    }
    await Promise.all([a!.worker.start(), b!.worker.start()]);
    await until(async () => (await sql.all(`SELECT id FROM notify_outbox WHERE state <> 'sent'`)).length === 0, 30_000);
    await sleep(200);
    const deliveries = hitsSince(hitsBefore).map((h) => h.delivery);
    expect(deliveries).toHaveLength(300);
    expect(new Set(deliveries).size).toBe(300);
  });

  it('reminds once per interval cluster-wide, whichever node ticks first', async () => {
    const { services: [a], sql, notified, hitsBefore } = await nodes(2, { reminderIntervalS: { critical: 1 } });
    const alerts = [alertOf(2_001), alertOf(2_002)];
    for (const x of alerts) a!.onTransition(firing(x));
    await sleep(3_500);
    for (const s of running) await s.notifier.stop();
    const reminded = await sql.all<{ alert_id: number; reminders: number }>('SELECT alert_id, reminders FROM notify_alerts ORDER BY alert_id');
    expect(reminded.map((r) => r.reminders).every((n) => n >= 1 && n <= 4)).toBe(true); // ~3 in 3.5 s at 1 s
    // A reminder a second per alert, never two at once (both nodes acting on one due reminder).
    for (const x of alerts) {
      const at = notified.filter((t) => t.to === 'reminder' && t.alert.id === x.id).map((t) => t.at);
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(1_000);
    }
    // Every reminder recorded once, told to the alert service once, and sent once.
    expect(notified.filter((t) => t.to === 'reminder')).toHaveLength(reminded.reduce((n, r) => n + r.reminders, 0));
    await until(async () => (await sql.all(`SELECT id FROM notify_outbox WHERE state <> 'sent'`)).length === 0);
    const sent = hitsSince(hitsBefore).flatMap((h) => h.alerts.filter((x) => x.reason === 'reminder').map((x) => x.id));
    for (const r of reminded) expect(sent.filter((id) => id === r.alert_id)).toHaveLength(r.reminders);
  });

  it('a node that dies holding a claim: another node sends the row once the claim expires, not before', async () => {
    const claimMs = 1_500;
    const { services: [a, b], sql, hitsBefore } = await nodes(2, {}, () => ({ claimMs }));
    for (const s of [a!, b!]) await s.worker.stop(); // nobody works the outbox yet
    a!.onTransition(firing(alertOf(3_001)));
    await until(async () => (await sql.all(`SELECT id FROM notify_outbox WHERE state = 'pending'`)).length === 1);
    // Node 0's worker claims the row (its tick's own call) and is killed before it sends or settles anything.
    const claimedAt = Date.now();
    expect(await a!.outbox.claimDue(claimedAt, 4, { by: 'node-0', untilMs: claimedAt + claimMs })).toHaveLength(1);
    await b!.worker.start();
    await sleep(claimMs / 2);
    expect(hitsSince(hitsBefore)).toEqual([]); // still node 0's
    await until(() => hitsSince(hitsBefore).length > 0, 5_000);
    expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(claimMs);
    await sleep(200);
    expect(hitsSince(hitsBefore).map((h) => h.alerts.map((x) => x.id))).toEqual([[3_001]]);
    expect(await sql.one(`SELECT state, attempts, claimed_by AS "claimedBy" FROM notify_outbox`)).toEqual({ state: 'sent', attempts: 1, claimedBy: null });
  });

  it('an alert acknowledged through one node gets no reminder from either before that node\'s notifier records it', async () => {
    const { services: [a, b], sqls: [sqlA, sqlB], notified, hitsBefore } = await nodes(2, { reminderIntervalS: { critical: 1 } });
    const alertsA = createAlertService({ sql: sqlA!, clock: systemClock, logger: createLogger('silent') });
    const alertsB = createAlertService({ sql: sqlB!, clock: systemClock, logger: createLogger('silent') });
    alertsA.onTransition((t) => a!.onTransition(t));
    const late: AlertTransition[] = []; // node B's acknowledgement, committed, not yet recorded by its notifier
    alertsB.onTransition((t) => late.push(t));
    const raised = (await alertsA.apply({ action: 'raise', kind: 'facility_tilt', subject: 'pav-6001', severity: 'critical', message: '倾斜 20°', communityId: 'c-1', districtId: 'd-1', at: Date.now() }))!;
    const about = (reason: string) => hitsSince(hitsBefore).filter((h) => h.alerts.some((x) => x.id === raised.id && x.reason === reason));
    await until(() => about('firing').length === 1);
    await alertsB.acknowledge(raised.id, { by: 'wang' });
    await sleep(2_500); // two reminder intervals, both nodes ticking every 10 ms
    expect(about('reminder')).toEqual([]);
    expect(notified.filter((t) => t.to === 'reminder')).toEqual([]);
    for (const t of late) b!.onTransition(t);
    await b!.notifier.settled();
    await sleep(1_200);
    expect(about('reminder')).toEqual([]);
  });

  it('a silence deleted on one node while the other node\'s flush is holding an item by it: the item goes out at once, not at the silence\'s end', async () => {
    const { services: [a, b], sql, hitsBefore } = await nodes(2);
    for (const s of [a!, b!]) await s.notifier.stop(); // node A's flush is run by hand below
    const silence = await a!.silences.create({ communityId: 'c-1', endsAt: new Date(Date.now() + 3_600_000).toISOString(), comment: '更换立柱' }, Date.now());
    a!.onTransition(firing(alertOf(7_001))); // c-1: silenced
    await a!.notifier.settled();
    // A third connection holds the item's row, so node A's flush stops right after it read the
    // silences and decided to hold the item, at its UPDATE of the row.
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => { release = resolve; });
    let locked = (): void => undefined;
    const rowLocked = new Promise<void>((resolve) => { locked = resolve; });
    const rowHeld = sql.transaction(async (tx) => {
      expect(await tx.all('SELECT id FROM notify_pending FOR UPDATE')).toHaveLength(1);
      locked();
      await released;
    });
    await rowLocked;
    const flushA = a!.notifier.tick();
    const waitingHold = async () => (await sql.all(`SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE notify_pending SET hold_until%'`)).length === 1;
    await until(waitingHold);
    expect(await b!.silences.remove(silence.id)).toBe(true); // committed while A still decides
    release();
    await rowHeld;
    await flushA;
    expect(await sql.all('SELECT silence_id AS "silenceId" FROM notify_pending')).toEqual([{ silenceId: silence.id }]); // held by a silence no longer there
    // Either node's next tick releases it.
    await until(async () => { await b!.notifier.tick(); return hitsSince(hitsBefore).length > 0; }, 3_000);
    expect(hitsSince(hitsBefore).flatMap((h) => h.alerts.map((x) => x.id))).toEqual([7_001]);
  });

  it('a silence created through one node holds the items the other node flushes, until it is deleted', async () => {
    const { services: [a, b], hitsBefore } = await nodes(2);
    const silence = await a!.silences.create({ communityId: 'c-1', endsAt: new Date(Date.now() + 3_600_000).toISOString(), comment: '更换立柱' }, Date.now());
    b!.onTransition(firing(alertOf(4_001))); // c-1: silenced
    b!.onTransition(firing(alertOf(4_002))); // c-0: not
    await until(() => hitsSince(hitsBefore).length > 0);
    await sleep(400);
    expect(hitsSince(hitsBefore).flatMap((h) => h.alerts.map((x) => x.id))).toEqual([4_002]);
    expect(await b!.silences.list(Date.now())).toEqual([expect.objectContaining({ id: silence.id, communityId: 'c-1', active: true })]);
    expect(await b!.silences.remove(silence.id)).toBe(true);
    await until(() => hitsSince(hitsBefore).length === 2);
    expect(hitsSince(hitsBefore).flatMap((h) => h.alerts.map((x) => x.id))).toEqual([4_002, 4_001]);
  });
});

/**
 * The whole path on two app nodes over one PostgreSQL: an alert raised on one node (its
 * community's owner) is announced once and reminded while firing; acknowledged through the
 * other node's API, whose notifier records it in the shared tracker, the reminders stop on
 * both nodes.
 */
describe('two app nodes on one PostgreSQL: raised on one, acknowledged through the other', () => {
  let pg: TestPostgres;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let nodes: TestApp[] = [];

  beforeAll(async () => {
    pg = await startTestPostgres();
    receiver = await startReceiver();
    const url = await pg.createDatabase();
    const notify = NotifyConfig.parse({
      groupWindowS: 0, tickMs: 20, reminderIntervalS: { critical: 1 }, escalateAfterS: { critical: 0 }, delivery: { pollMs: 20 },
      teams: [{ id: 'team-d1', name: '一队', communities: ['c-d-1'], channels: [{ channel: { type: 'webhook', url: receiver.url }, minSeverity: 'info' }] }],
    });
    nodes = await Promise.all([0, 1].map(() => startTestApp({ postgresUrl: url }, { app: { notify } })));
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await receiver?.close();
    await pg?.stop();
  });

  it('announces once, reminds while firing, and stops reminding on both nodes once acknowledged through the other', async () => {
    const [a, b] = nodes;
    const raised = (await a!.app.health.alerts.apply({
      action: 'raise', kind: 'facility_impact', subject: 'pav-e2e', severity: 'critical', message: '撞击', communityId: 'c-d-1', districtId: 'd-1', at: Date.now(),
    }))!;
    const about = () => receiver.hits.filter((h) => h.alerts.some((x) => x.id === raised.id));
    await until(() => about().some((h) => h.alerts.some((x) => x.reason === 'reminder')), 10_000);
    const ack = await b!.app.api.inject({ method: 'POST', url: `/api/v1/alerts/${raised.id}/ack`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { by: 'wang' } });
    expect(ack.statusCode, ack.body).toBe(200);
    await b!.app.notifications.notifier.settled();
    await sleep(300); // a reminder claimed before the acknowledgement may still be on its way
    const before = about().length;
    await sleep(2_500); // two reminder intervals
    expect(about()).toHaveLength(before);
    const reasons = about().flatMap((h) => h.alerts.map((x) => x.reason));
    expect(reasons.filter((r) => r === 'firing')).toHaveLength(1);
    expect(new Set(about().map((h) => h.delivery)).size).toBe(about().length); // no delivery twice
  });
});
