import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../registry/db.ts';
import { sqliteSqlOf } from '../../../registry/sql/sqlite.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createRandom } from '../../../lib/random.ts';
import { ok } from '../../../lib/result.ts';
import { createDeviceRegistry } from '../../../registry/devices.ts';
import { createAlertService } from '../../../alerts/alert-service.ts';
import { createWorkOrderService } from '../../../alerts/work-orders/service.ts';
import { createHealthMonitor } from '../../../health/monitor.ts';
import { NotifyConfig } from '../../../notify/config.ts';
import { createNotificationService } from '../../../notify/service.ts';
import { staticTeams } from '../../../notify/teams.ts';
import { Team } from '../../../contracts/team.ts';
import type { AcceptedReading } from '../../../contracts/reading.ts';
import type { Delivery } from '../../../notify/channels/index.ts';
import { T0 } from './helpers.ts';
import { testHasher } from '../../helpers/hasher.ts';

const TEAM = Team.parse({ id: 'team-a', name: '养护一队', communities: ['c-001'], channels: [{ channel: { type: 'wecom', key: 'k' }, minSeverity: 'info' }] });

/** Readings → health monitor → alert service + ledger → notifier, over one in-memory SQLite and one manual clock. */
async function setup() {
  const db = openDb(':memory:');
  const clock = createManualClock(T0);
  const logger = createLogger('silent');
  const alerts = createAlertService({ sql: sqliteSqlOf(db), clock, logger });
  const workOrders = createWorkOrderService({ clock, alerts });
  const registry = createDeviceRegistry(db, { hasher: testHasher });
  await registry.register({ id: 's-1', kind: 'soil', reportIntervalS: 10, place: { district: 'd-1', community: 'c-001', zone: 'z-1' } });
  const sent: Delivery[] = [];
  const notify = createNotificationService({
    db, clock, logger, random: createRandom(1), registry: new Registry(), teamsFor: staticTeams([TEAM]),
    config: NotifyConfig.parse({ groupWindowS: 30, reminderIntervalS: { warning: 0, critical: 0 }, escalateAfterS: { warning: 0, critical: 0 } }),
    send: async (_channel, delivery) => { sent.push(delivery); return ok(undefined); },
  });
  alerts.onTransition((t) => notify.onTransition(t));
  const monitor = createHealthMonitor({ clock, logger, alerts, devices: registry, saveBaseline: () => {} });
  const device = registry.get('s-1')!;
  let lastTick = clock.now();
  const tick = async (): Promise<void> => { await notify.notifier.tick(); await notify.worker.tick(); lastTick = clock.now(); };
  /** One reading at the clock's time; the notifier ticks once a second of clock time, as its timer would. */
  const send = async (moisture: number): Promise<void> => {
    const now = clock.now();
    const reading: AcceptedReading = { deviceId: 's-1', ts: now, receivedAt: now, kind: 'soil', dedupKey: undefined, fields: { moisture }, source: 'native' };
    monitor.onReading(reading, device);
    await monitor.settled();
    if (now - lastTick >= 1_000) await tick();
  };
  return { clock, alerts, workOrders, sent, send, tick };
}

/*
 * A flapping probe is one alert at each layer, each proved once: the decider's signals
 * (test/unit/rules/device-health/device.test.ts), the alert service folding a raise/clear
 * storm by reopening (test/unit/alerts/reopen.test.ts), the whole chain to work orders and
 * messages (here), and the same chain behind real MQTT and the ingest
 * (test/integration/health/flapping-sensor.test.ts).
 */

/** A sawtooth 0..99 % VWC, one reading every `periodMs`, for `n` readings. */
const sawtooth = (n: number) => Array.from({ length: n }, (_, i) => i % 100);

describe('a soil probe flooding a sawtooth 0..99 % VWC, through monitor, alert service, ledger and notifier', () => {
  it.each([
    ['45 ms apart for 3 min (the 4.5 s flapping seen in the field)', sawtooth(4_000), 45, 1],
    ['5 ms apart for 50 s', sawtooth(10_000), 5, 1],
    ['5 ms apart for 10 s: shorter than the raise hold (2 report intervals)', sawtooth(2_000), 5, 0],
    ['a single outlier in 10 min of good readings', Array.from({ length: 60 }, (_, i) => (i === 30 ? 95 : 30 + (i % 5))), 10_000, 0],
    ['0 % twice, far apart, in 10 min', Array.from({ length: 60 }, (_, i) => (i === 10 || i === 50 ? 0 : 30)), 10_000, 0],
  ])('%s → %i alert(s), as many work orders and firing messages', async (_name, values, periodMs, expected) => {
    const t = await setup();
    for (const v of values) { await t.send(v); t.clock.advance(periodMs); }
    t.clock.advance(60_000);
    await t.tick();
    const list = await t.alerts.list({ subject: 's-1' });
    expect(list).toHaveLength(expected);
    expect(list.every((a) => a.kind === 'sensor_out_of_range' && a.state === 'firing')).toBe(true);
    expect(await t.alerts.transitions(list[0]?.id ?? -1)).toHaveLength(expected);
    expect(await t.workOrders.list()).toHaveLength(expected);
    expect(t.sent.flatMap((d) => d.alerts.map((a) => a.reason))).toEqual(expected ? ['firing'] : []);
  });
});

describe('the notifier and a reopened alert (same id)', () => {
  it.each([
    // [seconds from firing to the clear, seconds the clear lasts, reasons sent in the end]
    ['flap inside the first group window: announced once', 5, 5, ['firing']],
    ['announced, then a flap shorter than the group window: nothing more', 40, 10, ['firing']],
    ['announced, then cleared long enough for the resolution to go out: told it is back', 40, 60, ['firing', 'resolved', 'firing']],
  ] as const)('%s', async (_name, firingS, clearS, reasons) => {
    const t = await setup();
    const signal = { kind: 'sensor_out_of_range', subject: 's-1', communityId: 'c-001', districtId: 'd-1', severity: 'warning', message: 'implausible moisture=0', at: T0 } as const;
    const step = async (s: number) => { for (let i = 0; i < s; i++) { t.clock.advance(1_000); await t.tick(); } };
    const first = (await t.alerts.apply({ action: 'raise', ...signal }))!;
    await step(firingS);
    await t.alerts.apply({ action: 'clear', kind: signal.kind, subject: signal.subject, at: t.clock.now() });
    await step(clearS);
    expect((await t.alerts.apply({ action: 'raise', ...signal }))!.id).toBe(first.id);
    await step(60);
    expect(t.sent.flatMap((d) => d.alerts.map((a) => [a.alert.id, a.reason]))).toEqual(reasons.map((r) => [first.id, r]));
  });

  it('an acknowledged alert that flaps stays acknowledged and pages nobody again', async () => {
    const t = await setup();
    const signal = { kind: 'sensor_out_of_range', subject: 's-1', communityId: 'c-001', districtId: 'd-1', severity: 'warning', message: 'implausible moisture=0', at: T0 } as const;
    const step = async (s: number) => { for (let i = 0; i < s; i++) { t.clock.advance(1_000); await t.tick(); } };
    const first = (await t.alerts.apply({ action: 'raise', ...signal }))!;
    await step(40);
    await t.alerts.acknowledge(first.id, { by: 'wang' });
    for (let i = 0; i < 5; i++) {
      await t.alerts.apply({ action: 'clear', kind: signal.kind, subject: signal.subject, at: t.clock.now() });
      await step(5);
      expect(await t.alerts.apply({ action: 'raise', ...signal })).toMatchObject({ id: first.id, state: 'acknowledged' });
      await step(5);
    }
    await step(60);
    expect(t.sent.flatMap((d) => d.alerts.map((a) => a.reason))).toEqual(['firing']);
  });
});
