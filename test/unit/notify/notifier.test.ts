import { describe, expect, it } from 'vitest';
import { useHarnesses, alertOf, S, T0 } from './harness.ts';
import { SQL_ENGINES } from '../../helpers/sql-engines.ts';
import type { AlertTransition, Severity } from '../../../contracts/alert.ts';
import { createAlertService } from '../../../alerts/alert-service.ts';
import { sqliteSqlOf } from '../../../registry/sql/sqlite.ts';
import { createLogger } from '../../../lib/logger.ts';

const ids = (s: { delivery: { alerts: Array<{ alert: { id: number } }> } }) => s.delivery.alerts.map((a) => a.alert.id);
const reasons = (s: { delivery: { alerts: Array<{ reason: string }> } }) => s.delivery.alerts.map((a) => a.reason);

describe.each(SQL_ENGINES)('notifier on %s', (engine) => {
  const harness = useHarnesses(engine);

  describe('routing: community → teams → channels by minimum severity', () => {
    it.each<[Severity, string[]]>([
      ['info', ['webhook']],
      ['warning', ['webhook', 'wecom']],
      ['critical', ['dingtalk', 'webhook', 'wecom']],
    ])('a %s alert in c-001 reaches %j', async (severity, types) => {
      const h = await harness();
      h.fire(alertOf(1, { severity }));
      await h.advance(30 * S);
      expect(h.sent.map((s) => s.channel.type).sort()).toEqual(types);
      for (const s of h.sent) expect(s.delivery.audience).toBe('team');
    });

    it('routes only to the teams answering for the community and counts alerts nobody answers for', async () => {
      const h = await harness();
      h.fire(alertOf(1, { communityId: 'c-002' }));
      h.fire(alertOf(2, { communityId: 'c-999' }));
      h.fire(alertOf(3, { communityId: null }));
      await h.advance(30 * S);
      expect(h.sent.map((s) => [s.channel.type, s.delivery.teamId, ids(s)])).toEqual([['wecom', 'team-a', [1]]]);
      expect(await h.registry.getSingleMetricAsString('gs_notify_unrouted_total')).toMatch(/gs_notify_unrouted_total 2/);
    });
  });

  describe('mentions', () => {
    it.each<[Severity, string[] | undefined]>([['critical', ['13800000001']], ['warning', undefined]])('a %s alert mentions the team technicians with a phone: %j', async (severity, mobiles) => {
      const h = await harness();
      h.fire(alertOf(1, { severity }));
      await h.advance(30 * S);
      expect(h.sentTo('wecom')[0]!.delivery.mentionMobiles).toEqual(mobiles);
    });
  });

  describe('grouping window', () => {
    it('sends alerts for one team within the window as one message, and later ones in the next', async () => {
      const h = await harness({ groupWindowS: 30 });
      h.fire(alertOf(1));
      await h.advance(10 * S);
      h.fire(alertOf(2, { communityId: 'c-002' }));
      await h.advance(19 * S);
      expect(h.sentTo('wecom')).toEqual([]);
      await h.advance(1 * S);
      expect(h.sentTo('wecom').map(ids)).toEqual([[1, 2]]);
      expect(h.sentTo('wecom')[0]!.delivery.message.title).toContain('2 条');
      h.fire(alertOf(3));
      await h.advance(29 * S);
      expect(h.sentTo('wecom')).toHaveLength(1);
      await h.advance(1 * S);
      expect(h.sentTo('wecom').map(ids)).toEqual([[1, 2], [3]]);
    });

    it('announces a resolution only for alerts that were announced', async () => {
      const h = await harness();
      const quick = alertOf(1);
      h.fire(quick);
      await h.advance(5 * S);
      h.resolve(quick); // inside the window: nobody heard of it, nobody needs to
      const slow = alertOf(2);
      h.fire(slow);
      await h.advance(30 * S);
      h.resolve(slow);
      await h.advance(30 * S);
      expect(h.sentTo('wecom').map((s) => [ids(s), reasons(s)])).toEqual([[[2], ['firing']], [[2], ['resolved']]]);
    });

    it('announces a severity upgrade of a firing alert', async () => {
      const h = await harness();
      const a = alertOf(1);
      h.fire(a);
      await h.advance(30 * S);
      h.service.onTransition({ alert: { ...a, severity: 'critical' }, from: 'firing', to: 'firing', at: h.clock.now() });
      await h.advance(30 * S);
      expect(h.sentTo('dingtalk').map(ids)).toEqual([[1]]);
      expect(h.sentTo('wecom')).toHaveLength(2);
    });

    it("announces the alert service's severity_raised while firing, and re-pages nobody once acknowledged", async () => {
      const h = await harness({ reminderIntervalS: { warning: 600, critical: 600 } });
      const a = alertOf(1);
      h.fire(a);
      await h.advance(30 * S);
      h.ack(a);
      h.service.onTransition({ alert: { ...a, severity: 'critical', state: 'acknowledged' }, from: 'acknowledged', to: 'severity_raised', at: h.clock.now() });
      await h.run(3600 * S);
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing']]);
      expect(h.sentTo('dingtalk')).toEqual([]);
      const b = alertOf(2);
      h.fire(b);
      await h.advance(30 * S);
      h.service.onTransition({ alert: { ...b, severity: 'critical' }, from: 'firing', to: 'severity_raised', at: h.clock.now() });
      await h.advance(30 * S);
      expect(h.sentTo('dingtalk').map(ids)).toEqual([[2]]); // critical-only channel: the upgrade
    });
  });

  describe('reminders until acknowledged', () => {
    it('repeats at the interval and stops at the acknowledgement', async () => {
      const h = await harness({ reminderIntervalS: { warning: 600 } });
      const a = alertOf(1);
      h.fire(a);
      await h.run(30 * S);
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing']]);
      await h.run(600 * S); // t = 630 s: the reminder at 600 s has gone out after its window
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing'], ['reminder']]);
      await h.run(600 * S); // t = 1230 s
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing'], ['reminder'], ['reminder']]);
      expect(h.notified.map((t) => [t.alert.id, t.to])).toEqual([[1, 'reminder'], [1, 'reminder']]);
      h.ack(a);
      await h.run(3_600 * S, 60 * S);
      expect(h.sentTo('wecom')).toHaveLength(3);
      expect(await h.service.notifier.pendingItems()).toBe(0);
    });

    it('a reminder quotes the alert as restated since it fired (a gateway\'s current device count), and a restatement is no news', async () => {
      const h = await harness({ reminderIntervalS: { warning: 600 } });
      const a = alertOf(1, { kind: 'gateway_offline', message: '网关 gw-1 已离线 4 分钟，其后 1 台设备无数据' });
      h.fire(a);
      await h.run(30 * S);
      const now = { ...a, message: '网关 gw-1 已离线 9 分钟，其后 2 台设备无数据' };
      h.service.onTransition({ alert: now, from: 'firing', to: 'restated', at: h.clock.now() });
      await h.run(60 * S);
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing']]); // the restatement sent nothing
      await h.run(600 * S);
      const reminder = h.sentTo('wecom')[1]!.delivery.alerts[0]!;
      expect(reminder.reason).toBe('reminder');
      expect(reminder.alert.message).toBe(now.message);
    });

    it('drops a reminder still waiting in its group window when the alert is acknowledged', async () => {
      const h = await harness({ reminderIntervalS: { warning: 600 } });
      const a = alertOf(1);
      h.fire(a);
      await h.run(600 * S); // the reminder was created at 600 s, waits until 630 s
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing']]);
      h.ack(a);
      await h.run(600 * S);
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing']]);
    });
  });

  describe('transitions of one alert heard out of order (two nodes sharing the tracker)', () => {
    it('a resolve (seq n) recorded after the reopen into firing (seq n + 1) changes nothing: the alert stays firing, reminders go on', async () => {
      const h = await harness({ reminderIntervalS: { warning: 600 } });
      const a = alertOf(1);
      h.service.onTransition({ alert: a, from: undefined, to: 'firing', at: h.clock.now(), seq: 1 });
      await h.run(30 * S);
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing']]);
      // Node B resolved it (seq 2) and node A reopened it (seq 3) ms later; A's notifier records first.
      h.service.onTransition({ alert: { ...a, lastChangedAt: h.clock.now() }, from: 'resolved', to: 'firing', at: h.clock.now(), seq: 3 });
      h.service.onTransition({ alert: { ...a, state: 'resolved', lastChangedAt: h.clock.now() }, from: 'firing', to: 'resolved', at: h.clock.now(), seq: 2 });
      await h.run(600 * S);
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing'], ['reminder']]);
      await h.run(600 * S);
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing'], ['reminder'], ['reminder']]);
      // A later transition still counts: the acknowledgement (seq 4) stops the reminders.
      h.service.onTransition({ alert: { ...a, state: 'acknowledged', acknowledgedBy: 'tech-1' }, from: 'firing', to: 'acknowledged', at: h.clock.now(), by: 'tech-1', seq: 4 });
      await h.run(3_600 * S, 60 * S);
      expect(h.sentTo('wecom')).toHaveLength(3);
    });

    it('an acknowledgement (seq n) recorded after the resolve (seq n + 1) leaves it resolved: a reopen moments later says nothing', async () => {
      const h = await harness({ reminderIntervalS: { warning: 600 } });
      const a = alertOf(1);
      h.service.onTransition({ alert: a, from: undefined, to: 'firing', at: h.clock.now(), seq: 10 });
      await h.run(30 * S);
      h.service.onTransition({ alert: { ...a, state: 'resolved' }, from: 'acknowledged', to: 'resolved', at: h.clock.now(), seq: 12 });
      h.service.onTransition({ alert: { ...a, state: 'acknowledged', acknowledgedBy: 'tech-1' }, from: 'firing', to: 'acknowledged', at: h.clock.now(), by: 'tech-1', seq: 11 });
      // Reopened inside the group window: the resolution waiting there was never news, and neither is the reopen.
      h.service.onTransition({ alert: a, from: 'resolved', to: 'firing', at: h.clock.now(), seq: 13 });
      await h.run(60 * S);
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing']]);
      await h.run(600 * S);
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing'], ['reminder']]);
    });
  });

  describe('an alert acknowledged or resolved before the notifier recorded it (the alert store is read under the lock)', () => {
    // The alert service commits, then tells the notifier; a tick between the two (here: the
    // transition not passed on yet; in a cluster, another node ticking) reads the tracker as firing.
    it.each([
      ['reminder', { reminderIntervalS: { warning: 600 } }, 'wecom'],
      ['escalation', { escalateAfterS: { warning: 600 } }, 'email'],
    ] as const)('no %s for an alert acknowledged in the store whose transition is not recorded yet', async (_what, config, channel) => {
      const h = await harness(config);
      const alerts = createAlertService({ sql: h.sql ?? sqliteSqlOf(h.db), clock: h.clock, logger: createLogger('silent') });
      const held: AlertTransition[] = [];
      let passOn = true;
      alerts.onTransition((t) => { if (passOn) h.service.onTransition(t); else held.push(t); });
      const raised = (await alerts.apply({ action: 'raise', kind: 'facility_tilt', subject: 'pav-1', severity: 'warning', message: '倾斜 12.0°', communityId: 'c-001', districtId: 'd-1', at: h.clock.now() }))!;
      await h.run(30 * S);
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing']]);
      h.clear();
      passOn = false;
      await h.run(500 * S);
      await alerts.acknowledge(raised.id, { by: 'tech-1' });
      await h.run(300 * S); // past the reminder's or escalation's time
      expect(h.sentTo(channel)).toEqual([]);
      expect(h.notified).toEqual([]);
      for (const t of held) h.service.onTransition(t); // recorded at last
      await h.run(1_800 * S, 60 * S);
      expect(h.sent).toEqual([]);
    });

    it('a reminder waiting in its group window is not sent once the alert store has the alert acknowledged', async () => {
      const h = await harness({ reminderIntervalS: { warning: 600 } });
      const alerts = createAlertService({ sql: h.sql ?? sqliteSqlOf(h.db), clock: h.clock, logger: createLogger('silent') });
      let passOn = true;
      alerts.onTransition((t) => { if (passOn) h.service.onTransition(t); });
      const raised = (await alerts.apply({ action: 'raise', kind: 'facility_tilt', subject: 'pav-1', severity: 'warning', message: '倾斜 12.0°', communityId: 'c-001', districtId: 'd-1', at: h.clock.now() }))!;
      await h.run(600 * S); // the reminder was queued at 600 s and waits for its window until 630 s
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing']]);
      passOn = false;
      await alerts.acknowledge(raised.id, { by: 'tech-1' });
      await h.run(60 * S);
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing']]);
      expect(await h.service.notifier.pendingItems()).toBe(0);
    });

    it('no reminder for an alert resolved in the store whose transition is not recorded yet', async () => {
      const h = await harness({ reminderIntervalS: { warning: 600 } });
      const alerts = createAlertService({ sql: h.sql ?? sqliteSqlOf(h.db), clock: h.clock, logger: createLogger('silent') });
      let passOn = true;
      alerts.onTransition((t) => { if (passOn) h.service.onTransition(t); });
      const raised = (await alerts.apply({ action: 'raise', kind: 'facility_tilt', subject: 'pav-1', severity: 'warning', message: '倾斜 12.0°', communityId: 'c-001', districtId: 'd-1', at: h.clock.now() }))!;
      await h.run(30 * S);
      passOn = false;
      await alerts.apply({ action: 'clear', kind: raised.kind, subject: raised.subject, at: h.clock.now() });
      await h.run(1_200 * S, 60 * S);
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing']]);
    });
  });

  describe('an alert settled in the store whose transition is never recorded (its node died between the commit and the record)', () => {
    it('is looked at again after a reminder or escalation interval, not at every tick of every node', async () => {
      const h = await harness({ reminderIntervalS: { warning: 600 }, escalateAfterS: { warning: 900 } });
      const sql = h.sql ?? sqliteSqlOf(h.db);
      const alerts = createAlertService({ sql, clock: h.clock, logger: createLogger('silent') });
      let passOn = true;
      alerts.onTransition((t) => { if (passOn) h.service.onTransition(t); });
      const raised = (await alerts.apply({ action: 'raise', kind: 'facility_tilt', subject: 'pav-1', severity: 'warning', message: '倾斜 12.0°', communityId: 'c-001', districtId: 'd-1', at: h.clock.now() }))!;
      await h.run(30 * S);
      passOn = false; // the resolution is committed and never reaches a notifier
      await alerts.apply({ action: 'clear', kind: raised.kind, subject: raised.subject, at: h.clock.now() });
      await h.run(1_200 * S, 60 * S);
      expect(h.sentTo('wecom').map(reasons)).toEqual([['firing']]);
      // Each tick skips it; left due, every later tick (every node's, every tickMs) would take its lock and read it again, for ever.
      const now = h.clock.now();
      expect(await sql.all('SELECT alert_id AS "alertId" FROM notify_alerts WHERE next_reminder_at <= ? OR escalate_at <= ?', [now, now])).toEqual([]);
      expect(await sql.one('SELECT next_reminder_at AS "nextReminderAt" FROM notify_alerts WHERE alert_id = ?', [raised.id])).toEqual({ nextReminderAt: expect.any(Number) });
    });
  });

  describe('escalation to the supervisor', () => {
    it('escalates after the deadline when still unacknowledged, once', async () => {
      const h = await harness({ escalateAfterS: { warning: 900 } });
      h.fire(alertOf(1));
      await h.run(900 * S);
      expect(h.sentTo('email')).toEqual([]);
      await h.run(30 * S);
      const email = h.sentTo('email');
      expect(email.map((s) => [s.delivery.audience, reasons(s)])).toEqual([['supervisor', ['escalation']]]);
      expect(email[0]!.delivery.message.title).toMatch(/^【升级】/);
      expect(h.notified.map((t) => t.to)).toEqual(['escalated']);
      await h.run(3_600 * S, 60 * S);
      expect(h.sentTo('email')).toHaveLength(1);
    });

    it('does not escalate an alert acknowledged before the deadline', async () => {
      const h = await harness({ escalateAfterS: { warning: 900 } });
      const a = alertOf(1);
      h.fire(a);
      await h.run(800 * S);
      h.ack(a);
      await h.run(3_600 * S, 60 * S);
      expect(h.sentTo('email')).toEqual([]);
    });

    it('sends reminders to the supervisor too once escalated, and tells both of the resolution', async () => {
      const h = await harness({ escalateAfterS: { warning: 60 }, reminderIntervalS: { warning: 300 } });
      const a = alertOf(1);
      h.fire(a);
      await h.run(310 * S);
      expect(h.sentTo('email').map(reasons)).toEqual([['escalation']]);
      await h.run(30 * S);
      expect(h.sentTo('email').map(reasons)).toEqual([['escalation'], ['reminder']]);
      h.resolve(a);
      await h.run(30 * S);
      expect(h.sentTo('email').map(reasons)).toEqual([['escalation'], ['reminder'], ['resolved']]);
      expect(h.sentTo('wecom').map(reasons).at(-1)).toEqual(['resolved']);
    });

    it('escalates now on an explicit escalated transition, and only once', async () => {
      const h = await harness();
      const a = alertOf(1);
      h.fire(a);
      h.service.onTransition({ alert: a, from: 'firing', to: 'escalated', at: h.clock.now() });
      h.service.onTransition({ alert: a, from: 'firing', to: 'escalated', at: h.clock.now() });
      await h.run(30 * S);
      expect(h.sentTo('email').map(reasons)).toEqual([['escalation']]);
    });
  });

  describe('quiet hours defer non-critical notifications', () => {
    // T0 is 10:00 local; quiet hours 09:00–11:00 contain it.
    const quiet = { quietHours: { start: '09:00', end: '11:00' } };

    it('holds a warning until the quiet hours end, then sends it', async () => {
      const h = await harness(quiet);
      h.fire(alertOf(1));
      await h.run(3_590 * S, 60 * S);
      expect(h.sent).toEqual([]);
      await h.run(20 * S);
      expect(h.sentTo('wecom').map(ids)).toEqual([[1]]);
      expect(h.clock.now()).toBeGreaterThanOrEqual(T0 + 3_600 * S);
    });

    it('sends a critical alert at once', async () => {
      const h = await harness(quiet);
      h.fire(alertOf(1, { severity: 'critical' }));
      await h.run(30 * S);
      expect(h.sentTo('dingtalk').map(ids)).toEqual([[1]]);
    });
  });

  describe('silences for maintenance windows', () => {
    it('holds notifications for a silenced community until the silence ends, if still firing', async () => {
      const h = await harness();
      await h.service.silences.create({ communityId: 'c-001', endsAt: new Date(T0 + 3_600 * S).toISOString(), comment: '更换凉亭立柱' }, T0);
      h.fire(alertOf(1));
      h.fire(alertOf(2, { communityId: 'c-002' }));
      await h.run(30 * S);
      expect(h.sentTo('wecom').map(ids)).toEqual([[2]]);
      await h.run(3_540 * S, 60 * S);
      expect(h.sentTo('wecom').map(ids)).toEqual([[2]]);
      await h.run(60 * S);
      expect(h.sentTo('wecom').map(ids)).toEqual([[2], [1]]);
      expect(await h.registry.getSingleMetricAsString('gs_notify_silenced_total')).toMatch(/gs_notify_silenced_total [1-9]/);
    });

    it('releases what a silence held as soon as the silence is deleted', async () => {
      const h = await harness();
      const s = await h.service.silences.create({ communityId: 'c-001', endsAt: new Date(T0 + 3_600 * S).toISOString(), comment: '维护' }, T0);
      h.fire(alertOf(1));
      await h.run(300 * S);
      expect(h.sent).toEqual([]);
      expect(await h.service.silences.remove(s.id)).toBe(true);
      await h.advance(1 * S);
      expect(h.sentTo('wecom').map(ids)).toEqual([[1]]);
    });

    it('releases an item held by a silence whose row is gone at the next tick, however it went', async () => {
      // On PostgreSQL another node's flush can hold the item by the silence just as it is
      // deleted (the race itself: test/integration/cluster/notify-shared.test.ts); here the row goes behind the store's back.
      const h = await harness();
      const s = await h.service.silences.create({ communityId: 'c-001', endsAt: new Date(T0 + 3_600 * S).toISOString(), comment: '维护' }, T0);
      h.fire(alertOf(1));
      await h.run(300 * S);
      expect(h.sent).toEqual([]);
      await (h.sql ?? sqliteSqlOf(h.db)).run('DELETE FROM notify_silences WHERE id = ?', [s.id]);
      await h.advance(1 * S);
      expect(h.sentTo('wecom').map(ids)).toEqual([[1]]);
    });

    it('never sends an alert that resolved during its silence', async () => {
      const h = await harness();
      await h.service.silences.create({ subject: 'pav-1', kind: 'facility_tilt', endsAt: new Date(T0 + 600 * S).toISOString(), comment: '调平' }, T0);
      const a = alertOf(1);
      h.fire(a);
      await h.run(300 * S);
      h.resolve(a);
      await h.run(900 * S, 60 * S);
      expect(h.sent).toEqual([]);
    });

    it('matches by kind only when asked to', async () => {
      const h = await harness();
      await h.service.silences.create({ kind: 'device_offline', endsAt: new Date(T0 + 600 * S).toISOString(), comment: '网关维护' }, T0);
      h.fire(alertOf(1, { kind: 'device_offline', subject: 'soil-1' }));
      h.fire(alertOf(2));
      await h.run(30 * S);
      expect(h.sentTo('wecom').map(ids)).toEqual([[2]]);
    });
  });

  describe('state survives a restart', () => {
    it('a new service over the same database keeps the reminder schedule and the pending group', async () => {
      const first = await harness({ reminderIntervalS: { warning: 600 } });
      first.fire(alertOf(1));
      await first.run(30 * S);
      first.fire(alertOf(2)); // waiting in its window when the process "dies"
      await first.service.notifier.settled();
      const second = await harness({ reminderIntervalS: { warning: 600 } }, { db: first.db, ...(first.sql ? { sql: first.sql } : {}) });
      second.clock.set(first.clock.now());
      await second.run(30 * S);
      expect(second.sentTo('wecom').map(ids)).toEqual([[2]]);
      await second.run(600 * S);
      expect(second.sentTo('wecom').map(reasons).flat()).toContain('reminder');
    });
  });
});
