import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { openDb } from '../../../registry/db.ts';
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

function setup(send: (c: Channel) => Promise<SendResult>, delivery: Partial<NotifyConfig['delivery']> = {}) {
  const db = openDb(':memory:');
  const clock = createManualClock(T0);
  const outbox = createOutbox(db);
  const registry = new Registry();
  const metrics = createNotifyMetrics(registry, () => outbox.backlog(clock.now()));
  const config = NotifyConfig.parse({ delivery: { backoffBaseMs: 1_000, backoffMaxMs: 60_000, maxAttempts: 4, concurrency: 2, ...delivery } });
  const worker = createOutboxWorker({ outbox, send: (c) => send(c), clock, random: () => 0, logger: createLogger('silent'), metrics, delivery: config.delivery });
  const enqueue = (channel: Channel, alertId = 1) =>
    outbox.enqueue([{ teamId: 'team-a', audience: 'team', channel, payload: { message: { title: 't', lines: [] }, alerts: [{ reason: 'firing', ackUrl: 'u', alert: alertOf(alertId) }] } }], clock.now())[0]!;
  return { db, clock, outbox, registry, worker, enqueue };
}

describe('outbox worker', () => {
  it('retries a failing channel with exponential backoff, then gives up and says so', async () => {
    const attempts: number[] = [];
    const w = setup(async () => { attempts.push(w.clock.now() - T0); return err('HTTP 502: bad gateway'); });
    const id = w.enqueue(wecom);
    // random() = 0 → each delay is half the nominal: 500, 1000, 2000 ms.
    for (let i = 0; i < 40; i++) { await w.worker.tick(); w.clock.advance(100); }
    expect(attempts).toEqual([0, 500, 1_500, 3_500]);
    const [row] = w.outbox.list({ limit: 10, alert: 1 });
    expect(row).toMatchObject({ id, state: 'failed', attempts: 4, lastError: 'HTTP 502: bad gateway', sentAt: null });
    const text = await w.registry.metrics();
    expect(text).toMatch(/gs_notify_send_failures_total\{channel_type="wecom",channel="wecom:[0-9a-f]{10}"\} 4/);
    expect(text).toMatch(/gs_notify_given_up_total\{channel_type="wecom",channel="wecom:[0-9a-f]{10}"\} 1/);
    expect(text).toMatch(/gs_notify_outbox_pending 0/);

    // An operator fixes the endpoint and retries: a fresh set of attempts.
    expect(w.outbox.requeue(id, w.clock.now())).toBe(true);
    expect(w.outbox.requeue(id, w.clock.now())).toBe(false); // only abandoned rows
    expect(w.outbox.list({ limit: 10 })[0]).toMatchObject({ state: 'pending', attempts: 0 });
  });

  it('prunes settled rows past retention and keeps pending ones', async () => {
    const w = setup(async (c) => (c.type === 'wecom' ? ok(undefined) : err('down')));
    w.enqueue(wecom);
    w.enqueue(ding);
    await w.worker.tick();
    w.clock.advance(31 * 86_400_000);
    expect(w.outbox.prune(w.clock.now() - 30 * 86_400_000)).toBe(1);
    expect(w.outbox.list({ limit: 10 }).map((r) => r.channelType)).toEqual(['dingtalk']);
  });

  it('keeps failures of one channel away from another and records success', async () => {
    const w = setup(async (c) => (c.type === 'wecom' ? err('timeout after 10000 ms') : ok(undefined)));
    w.enqueue(wecom);
    w.enqueue(ding);
    await w.worker.tick();
    const rows = w.outbox.list({ limit: 10 });
    expect(rows.map((r) => [r.channelType, r.state, r.attempts])).toEqual([['dingtalk', 'sent', 1], ['wecom', 'pending', 1]]);
    expect(w.outbox.list({ limit: 10, state: 'pending' }).map((r) => r.channelType)).toEqual(['wecom']);
    expect(w.outbox.list({ limit: 10, channel: 'dingtalk' }).map((r) => r.state)).toEqual(['sent']);
    const text = await w.registry.metrics();
    expect(text).toMatch(/gs_notify_sent_total\{channel_type="dingtalk",channel="dingtalk:[0-9a-f]{10}"\} 1/);
    expect(text).toMatch(/gs_notify_outbox_pending 1/);
  });

  it('never has more than `concurrency` sends in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const releases: Array<() => void> = [];
    const w = setup(() => new Promise<SendResult>((resolve) => {
      inFlight++; peak = Math.max(peak, inFlight);
      releases.push(() => { inFlight--; resolve(ok(undefined)); });
    }), { concurrency: 2 });
    for (let i = 1; i <= 5; i++) w.enqueue(wecom, i);
    const first = w.worker.tick();
    void w.worker.tick(); // slots are full: claims nothing
    expect(peak).toBe(2);
    expect(w.outbox.list({ limit: 10, state: 'sending' })).toHaveLength(2);
    releases.splice(0).forEach((r) => r());
    await first;
    const second = w.worker.tick();
    expect(inFlight).toBe(2);
    releases.splice(0).forEach((r) => r());
    await second;
    const third = w.worker.tick();
    releases.splice(0).forEach((r) => r());
    await third;
    expect(peak).toBe(2);
    expect(w.outbox.list({ limit: 10, state: 'sent' })).toHaveLength(5);
  });

  it('fails a row whose stored channel no longer parses instead of blocking the queue', async () => {
    const w = setup(async () => ok(undefined));
    const bad = w.enqueue(wecom, 1);
    w.enqueue(ding, 2);
    w.db.prepare(`UPDATE notify_outbox SET channel = '{"type":"pager"}' WHERE id = ?`).run(bad);
    await w.worker.tick();
    expect(w.outbox.list({ limit: 10 }).map((r) => [r.alertIds, r.state])).toEqual([[[2], 'sent'], [[1], 'failed']]);
    expect(w.outbox.list({ limit: 10, state: 'failed' })[0]!.lastError).toMatch(/^unreadable outbox row/);
  });

  it('puts rows a dead process had claimed back in the queue at start', async () => {
    const w = setup(async () => ok(undefined));
    w.enqueue(wecom);
    expect(w.outbox.claimDue(w.clock.now(), 10)).toHaveLength(1); // claimed, then the process "dies"
    expect(w.outbox.claimDue(w.clock.now(), 10)).toHaveLength(0);
    expect(w.outbox.recoverInFlight()).toBe(1);
    await w.worker.tick();
    expect(w.outbox.list({ limit: 10 })[0]).toMatchObject({ state: 'sent', attempts: 1 });
  });
});
