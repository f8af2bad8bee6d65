import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { Sql } from '../../../registry/sql/port.ts';
import { SQL_ENGINES, useSqlDatabases } from '../../helpers/sql-engines.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { ok, err } from '../../../lib/result.ts';
import { createOutbox } from '../../../notify/outbox.ts';
import { createOutboxWorker } from '../../../notify/worker.ts';
import { createNotifyMetrics } from '../../../notify/metrics.ts';
import { NotifyConfig } from '../../../notify/config.ts';
import type { SendResult } from '../../../notify/channels/index.ts';
import type { Channel } from '../../../contracts/team.ts';
import { alertOf, T0 } from './harness.ts';

const wecom: Channel = { type: 'wecom', key: 'k-1' };
const ding: Channel = { type: 'dingtalk', accessToken: 't-1' };

function setupOver(sql: Sql, send: (c: Channel) => Promise<SendResult>, delivery: Partial<NotifyConfig['delivery']> = {}) {
  const clock = createManualClock(T0);
  const outbox = createOutbox(sql);
  const registry = new Registry();
  const metrics = createNotifyMetrics(registry, () => outbox.backlog(clock.now()));
  const config = NotifyConfig.parse({ delivery: { backoffBaseMs: 1_000, backoffMaxMs: 60_000, maxAttempts: 4, concurrency: 2, ...delivery } });
  const worker = createOutboxWorker({
    outbox, send: (c) => send(c), clock, random: () => 0, logger: createLogger('silent'), metrics, delivery: config.delivery, claimant: 'node-1', claimMs: 60_000,
  });
  const enqueue = async (channel: Channel, alertId = 1) =>
    (await outbox.enqueue([{ teamId: 'team-a', audience: 'team', channel, payload: { message: { title: 't', lines: [] }, alerts: [{ reason: 'firing', ackUrl: 'u', alert: alertOf(alertId) }] } }], clock.now()))[0]!;
  return { sql, clock, outbox, registry, worker, enqueue };
}

describe.each(SQL_ENGINES)('outbox worker on %s', (engine) => {
  const databases = useSqlDatabases(engine);
  const setup = async (send: (c: Channel) => Promise<SendResult>, delivery: Partial<NotifyConfig['delivery']> = {}) =>
    setupOver((await databases.database()).sql, send, delivery);

  it('retries a failing channel with exponential backoff, then gives up and says so', async () => {
    const attempts: number[] = [];
    const w = await setup(async () => { attempts.push(w.clock.now() - T0); return err('HTTP 502: bad gateway'); });
    const id = await w.enqueue(wecom);
    // random() = 0 → each delay is half the nominal: 500, 1000, 2000 ms.
    for (let i = 0; i < 40; i++) { await w.worker.tick(); w.clock.advance(100); }
    expect(attempts).toEqual([0, 500, 1_500, 3_500]);
    const [row] = (await w.outbox.list({ limit: 10, alert: 1 }));
    expect(row).toMatchObject({ id, state: 'failed', attempts: 4, lastError: 'HTTP 502: bad gateway', sentAt: null });
    const text = await w.registry.metrics();
    expect(text).toMatch(/gs_notify_send_failures_total\{channel_type="wecom",channel="wecom:[0-9a-f]{10}"\} 4/);
    expect(text).toMatch(/gs_notify_given_up_total\{channel_type="wecom",channel="wecom:[0-9a-f]{10}"\} 1/);
    expect(text).toMatch(/gs_notify_outbox_pending 0/);

    // An operator fixes the endpoint and retries: a fresh set of attempts.
    expect(await w.outbox.requeue(id, w.clock.now())).toBe(true);
    expect(await w.outbox.requeue(id, w.clock.now())).toBe(false); // only abandoned rows
    expect((await w.outbox.list({ limit: 10 }))[0]).toMatchObject({ state: 'pending', attempts: 0 });
  });

  it('prunes settled rows past retention and keeps pending ones', async () => {
    const w = await setup(async (c) => (c.type === 'wecom' ? ok(undefined) : err('down')));
    await w.enqueue(wecom);
    await w.enqueue(ding);
    await w.worker.tick();
    w.clock.advance(31 * 86_400_000);
    expect(await w.outbox.prune(w.clock.now() - 30 * 86_400_000)).toBe(1);
    expect((await w.outbox.list({ limit: 10 })).map((r) => r.channelType)).toEqual(['dingtalk']);
  });

  it('keeps failures of one channel away from another and records success', async () => {
    const w = await setup(async (c) => (c.type === 'wecom' ? err('timeout after 10000 ms') : ok(undefined)));
    await w.enqueue(wecom);
    await w.enqueue(ding);
    await w.worker.tick();
    const rows = (await w.outbox.list({ limit: 10 }));
    expect(rows.map((r) => [r.channelType, r.state, r.attempts])).toEqual([['dingtalk', 'sent', 1], ['wecom', 'pending', 1]]);
    expect((await w.outbox.list({ limit: 10, state: 'pending' })).map((r) => r.channelType)).toEqual(['wecom']);
    expect((await w.outbox.list({ limit: 10, channel: 'dingtalk' })).map((r) => r.state)).toEqual(['sent']);
    const text = await w.registry.metrics();
    expect(text).toMatch(/gs_notify_sent_total\{channel_type="dingtalk",channel="dingtalk:[0-9a-f]{10}"\} 1/);
    expect(text).toMatch(/gs_notify_outbox_pending 1/);
  });

  it('never has more than `concurrency` sends in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const releases: Array<() => void> = [];
    const w = await setup(() => new Promise<SendResult>((resolve) => {
      inFlight++; peak = Math.max(peak, inFlight);
      releases.push(() => { inFlight--; resolve(ok(undefined)); });
    }), { concurrency: 2 });
    for (let i = 1; i <= 5; i++) await w.enqueue(wecom, i);
    const first = w.worker.tick();
    await w.worker.tick(); // slots are full (claimed or being claimed): claims nothing
    await until(() => inFlight === 2);
    expect(peak).toBe(2);
    expect((await w.outbox.list({ limit: 10, state: 'sending' }))).toHaveLength(2);
    releases.splice(0).forEach((r) => r());
    await first;
    const second = w.worker.tick();
    await until(() => inFlight === 2);
    releases.splice(0).forEach((r) => r());
    await second;
    const third = w.worker.tick();
    await until(() => inFlight === 1);
    releases.splice(0).forEach((r) => r());
    await third;
    expect(peak).toBe(2);
    expect((await w.outbox.list({ limit: 10, state: 'sent' }))).toHaveLength(5);
  });

  it('fails a row whose stored channel no longer parses instead of blocking the queue', async () => {
    const w = await setup(async () => ok(undefined));
    const bad = await w.enqueue(wecom, 1);
    await w.enqueue(ding, 2);
    await w.sql.run(`UPDATE notify_outbox SET channel = '{"type":"pager"}' WHERE id = ?`, [bad]);
    await w.worker.tick();
    expect((await w.outbox.list({ limit: 10 })).map((r) => [r.alertIds, r.state])).toEqual([[[2], 'sent'], [[1], 'failed']]);
    expect((await w.outbox.list({ limit: 10, state: 'failed' }))[0]!.lastError).toMatch(/^unreadable outbox row/);
  });

  it('takes a row whose claim expired (its worker died mid-send), not before, and only the holder settles a claim', async () => {
    const w = await setup(async () => ok(undefined));
    const id = await w.enqueue(wecom);
    expect(await w.outbox.claimDue(w.clock.now(), 10, { by: 'node-dead', untilMs: w.clock.now() + 30_000 })).toHaveLength(1); // claimed, then the node "dies"
    await w.worker.tick();
    expect((await w.outbox.list({ limit: 10 }))[0]).toMatchObject({ state: 'sending', attempts: 0 });
    await w.outbox.markSent(id, w.clock.now(), 'node-other'); // not its claim: nothing changes
    expect((await w.outbox.list({ limit: 10 }))[0]).toMatchObject({ state: 'sending' });
    w.clock.advance(30_000);
    await w.worker.tick();
    expect((await w.outbox.list({ limit: 10 }))[0]).toMatchObject({ state: 'sent', attempts: 1 });
  });

  it('hands back what it still holds when it stops', async () => {
    const w = await setup(() => new Promise<SendResult>(() => undefined)); // a send that never answers
    await w.enqueue(wecom);
    void w.worker.tick();
    await until(async () => (await w.outbox.list({ limit: 10, state: 'sending' })).length === 1);
    await w.worker.stop(10);
    expect((await w.outbox.list({ limit: 10 }))[0]).toMatchObject({ state: 'pending' });
  });

  it('sends nothing a claim still on its way at stop brings back, and hands those rows back', async () => {
    const sent: string[] = [];
    const w = await setup(async (c) => { sent.push(c.type); return ok(undefined); });
    await w.enqueue(wecom);
    // The store answers the claim slowly (PostgreSQL busy, or the SQLite port behind a transaction): stop comes meanwhile.
    let open!: () => void;
    const gate = new Promise<void>((r) => { open = r; });
    const slow = { ...w.outbox, claimDue: async (...a: Parameters<typeof w.outbox.claimDue>) => { await gate; return w.outbox.claimDue(...a); } };
    const worker = createOutboxWorker({
      outbox: slow, send: async (c) => { sent.push(c.type); return ok(undefined); }, clock: w.clock, random: () => 0, logger: createLogger('silent'),
      delivery: NotifyConfig.parse({}).delivery, claimant: 'node-1', claimMs: 60_000,
    });
    const ticking = worker.tick();
    const stopped = worker.stop(50);
    setTimeout(open, 10);
    await stopped;
    await ticking;
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([]); // stopped: it sends nothing more (the next start, or another node, sends it once)
    expect((await w.outbox.list({ limit: 10 }))[0]).toMatchObject({ state: 'pending', attempts: 0 });
  });

  it(engine === 'sqlite'
    ? 'puts rows a dead process had claimed back in the queue at start (SQLite: the data directory is one process\'s)'
    : 'leaves claimed rows alone at start, another live node may be sending them, and sends them once the claim expires (PostgreSQL)', async () => {
    const w = await setup(async () => ok(undefined));
    await w.enqueue(wecom);
    expect(await w.outbox.claimDue(w.clock.now(), 10, { by: 'node-1', untilMs: w.clock.now() + 60_000 })).toHaveLength(1); // claimed, then the process "dies"
    expect(await w.outbox.claimDue(w.clock.now(), 10, { by: 'node-1', untilMs: w.clock.now() + 60_000 })).toHaveLength(0);
    if (engine === 'sqlite') {
      expect(await w.outbox.recoverInFlight()).toBe(1);
    } else {
      expect(await w.outbox.recoverInFlight()).toBe(0);
      await w.worker.tick();
      expect((await w.outbox.list({ limit: 10 }))[0]).toMatchObject({ state: 'sending' }); // the claim still holds
      w.clock.advance(60_001);
    }
    await w.worker.tick();
    expect((await w.outbox.list({ limit: 10 }))[0]).toMatchObject({ state: 'sent', attempts: 1 });
  });
});

/** Wait (a bounded number of turns of the event loop) until `ok` holds. */
async function until(ok: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('condition not met');
}
