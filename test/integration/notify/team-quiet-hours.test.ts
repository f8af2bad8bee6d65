import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../../lib/clock.ts';
import { NotifyConfig } from '../../../notify/config.ts';
import type { AlertSignal } from '../../../contracts/alert.ts';
import type { ImportReport } from '../../../contracts/inventory.ts';
import { ADMIN_TOKEN, eventually, startTestApp, type TestApp } from '../../helpers/app.ts';
import { startFakeRobots } from './fake-robots.ts';

const SECRETS = {
  dingtalk: { accessToken: 'unused', secret: 'unused-secret' },
  feishu: { token: 'unused', secret: 'unused' },
  wecom: { key: 'unused' },
  webhook: { secret: 'whsec-quiet-hours-0123' },
};
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** 23:00 on 2026-07-01 in UTC+8: inside 22:00–07:00. */
const NIGHT = Date.parse('2026-07-01T15:00:00Z');
const SEVEN_AM = Date.parse('2026-07-01T23:00:00Z');

/** Wall-clock pace (the app's timers and group windows run as usual) from a time the test can jump. */
function createJumpingClock(start: number): Clock & { set(ms: number): void; advance(ms: number): void } {
  let offset = start - Date.now();
  return { now: () => Date.now() + offset, set: (ms) => { offset = ms - Date.now(); }, advance: (ms) => { offset += ms; } };
}

/**
 * The whole app on a clock the test moves: teams with their quiet hours come in through the inventory
 * API, alerts through the real alert service, messages go out to a local webhook receiver that
 * checks signatures and timestamps against the same clock.
 */
describe('quiet hours per team, carried by the inventory', () => {
  const clock = createJumpingClock(NIGHT);
  let robots: Awaited<ReturnType<typeof startFakeRobots>>;
  let t: TestApp;
  const inventory = (nightQuiet: Record<string, unknown>) => ({
    version: 1,
    districts: [{ id: 'd-q', name: '洮北区', subDistricts: [{ id: 's-q', name: '明仁街道', communities: [{ id: 'c-q', name: '幸福小区' }] }] }],
    teams: [
      { id: 'team-duty', name: '夜间值班队', communities: ['c-q'], channels: [{ channel: { type: 'webhook', url: `${robots.baseUrl}/hook`, secret: SECRETS.webhook.secret }, minSeverity: 'info' }], quietHours: null },
      { id: 'team-night', name: '养护一队', communities: ['c-q'], channels: [{ channel: { type: 'webhook', url: `${robots.baseUrl}/hook`, secret: SECRETS.webhook.secret }, minSeverity: 'info' }], quietHours: nightQuiet },
    ],
  });
  const put = async (doc: unknown): Promise<ImportReport> => {
    const res = await t.app.api.inject({ method: 'PUT', url: '/api/v1/inventory', headers: auth, payload: doc as Record<string, unknown> });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { report: ImportReport }).report;
  };
  const raise = (kind: AlertSignal['kind'], subject: string, severity: 'warning' | 'critical' = 'warning'): AlertSignal =>
    ({ action: 'raise', kind, subject, severity, message: `${kind} ${subject}`, communityId: 'c-q', districtId: 'd-q', at: clock.now() });
  const received = (team: string, alertId: number) =>
    robots.of('webhook', '/hook').filter((r) => r.body.team === team && (r.body.alerts as Array<{ alert: { id: number } }>).some((a) => a.alert.id === alertId));

  beforeAll(async () => {
    robots = await startFakeRobots({ ...SECRETS, now: () => clock.now() });
    const notify = NotifyConfig.parse({
      groupWindowS: 1, tickMs: 50,
      reminderIntervalS: { info: 0, warning: 0, critical: 0 }, escalateAfterS: { info: 0, warning: 0, critical: 0 },
      // The config's own window covers 23:00 too: team-duty's null must override it.
      quietHours: { start: '22:00', end: '06:00' },
      reopenWithinS: { device_offline: 60 },
      delivery: { concurrency: 2, timeoutMs: 2_000, maxAttempts: 3, backoffBaseMs: 100, backoffMaxMs: 200, pollMs: 50 },
    });
    t = await startTestApp({}, { app: { clock, notify } });
  });
  afterAll(async () => {
    await t?.stop();
    await robots?.close();
  });

  it('imports the teams\' quiet hours, exports them back, and a re-import writes nothing', async () => {
    const report = await put(inventory({ start: '22:00', end: '07:00' }));
    expect(report.tables.teams).toMatchObject({ inserted: 2 });
    const exported = (await t.app.api.inject({ url: '/api/v1/inventory', headers: auth })).json() as { teams: Array<{ id: string; quietHours?: unknown }> };
    expect(exported.teams.map((team) => [team.id, team.quietHours])).toEqual([['team-duty', null], ['team-night', { start: '22:00', end: '07:00' }]]);
    expect((await put(exported)).rowsWritten).toBe(0);
    expect(t.app.city.teamsFor('c-q').map((team) => [team.id, team.quietHours])).toEqual([['team-duty', null], ['team-night', { start: '22:00', end: '07:00' }]]);
  });

  it('a changed window updates exactly that column; removing it falls back to the config\'s', async () => {
    expect((await put(inventory({ start: '22:00', end: '07:00', utcOffsetMinutes: 480 }))).changes)
      .toEqual([{ table: 'teams', key: 'team-night', action: 'updated', columns: ['quiet_hours'] }]);
    const doc = inventory({});
    delete (doc.teams[1] as { quietHours?: unknown }).quietHours;
    expect((await put(doc)).changes).toEqual([{ table: 'teams', key: 'team-night', action: 'updated', columns: ['quiet_hours'] }]);
    const exported = (await t.app.api.inject({ url: '/api/v1/inventory', headers: auth })).json() as { teams: Array<Record<string, unknown>> };
    expect(exported.teams[1]).not.toHaveProperty('quietHours');
    await put(inventory({ start: '22:00', end: '07:00' }));
  });

  it('at 23:00 the team without quiet hours hears of a warning at once; the team in its quiet hours at 07:00', async () => {
    const alert = (await t.app.health.alerts.apply(raise('battery_low', 'soil-q1')))!;
    await eventually(() => received('team-duty', alert.id)[0], 5_000, 'the duty team\'s message');
    await sleep(500); // many ticks and worker polls: anything not held would have gone by now
    expect(received('team-night', alert.id)).toEqual([]);
    expect(robots.refused).toEqual([]);

    clock.set(SEVEN_AM - 1_000);
    await sleep(300);
    expect(received('team-night', alert.id)).toEqual([]);
    clock.set(SEVEN_AM + 2_000);
    const message = await eventually(() => received('team-night', alert.id)[0], 5_000, 'the held message after 07:00');
    expect(message.body.alerts).toEqual([expect.objectContaining({ reason: 'firing', alert: expect.objectContaining({ id: alert.id, kind: 'battery_low' }) })]);
    expect(received('team-duty', alert.id)).toHaveLength(1);
  });

  it('a critical alert reaches the team in its quiet hours at once', async () => {
    clock.set(NIGHT + 86_400_000);
    const alert = (await t.app.health.alerts.apply(raise('facility_impact', 'pav-q1', 'critical')))!;
    await eventually(() => received('team-night', alert.id)[0], 5_000, 'the critical message at night');
    await eventually(() => received('team-duty', alert.id)[0], 5_000, 'and to the duty team');
  });

  it('the notify config\'s reopen window for a kind reaches the alert service', async () => {
    const alerts = t.app.health.alerts;
    const first = (await alerts.apply(raise('device_offline', 'soil-q2')))!;
    await alerts.apply({ action: 'clear', kind: 'device_offline', subject: 'soil-q2', at: clock.now() });
    clock.advance(59_000);
    expect((await alerts.apply(raise('device_offline', 'soil-q2')))!.id).toBe(first.id);
    await alerts.apply({ action: 'clear', kind: 'device_offline', subject: 'soil-q2', at: clock.now() });
    clock.advance(61_000);
    expect((await alerts.apply(raise('device_offline', 'soil-q2')))!.id).not.toBe(first.id);
    // Kinds the config leaves out keep their defaults (battery_low: 7 days).
    const battery = (await alerts.apply(raise('battery_low', 'soil-q3')))!;
    await alerts.apply({ action: 'clear', kind: 'battery_low', subject: 'soil-q3', at: clock.now() });
    clock.advance(2 * 86_400_000);
    expect((await alerts.apply(raise('battery_low', 'soil-q3')))!.id).toBe(battery.id);
  });
});
