import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../registry/db.ts';
import type { Sql } from '../../../registry/sql/port.ts';
import { sqliteSqlOf } from '../../../registry/sql/sqlite.ts';
import { DEFAULT_REOPEN_WITHIN_MS, reopenWindowsMs } from '../../../alerts/reopen.ts';
import { NotifyConfig } from '../../../notify/config.ts';
import type { AlertKind } from '../../../contracts/alert.ts';
import { clear, raise, ENGINES, ledgerOver, useLedgers, HOUR, MIN } from './helpers.ts';

const DAY = 24 * HOUR;
const dbs: Array<{ db: Db; dir: string }> = [];
afterEach(() => {
  for (const { db, dir } of dbs.splice(0)) { db.close(); rmSync(dir, { recursive: true, force: true }); }
});

/** A real SQLite file, as the app keeps (the PostgreSQL blocks get a database of their own instead). */
function sqliteFile(): Sql {
  const dir = mkdtempSync(join(tmpdir(), 'gs-reopen-'));
  const db = openDb(join(dir, 'greenspace.db'));
  dbs.push({ db, dir });
  return sqliteSqlOf(db);
}

describe.each(ENGINES)('on %s', (engine) => {
  const ledgers = useLedgers(engine);

  /** The alert service and ledger over a real database, on a manual clock, with the given notify config's reopen windows. */
  async function setup(reopenWithinS: Partial<Record<AlertKind, number>> = {}) {
    const sql = engine === 'sqlite' ? sqliteFile() : (await ledgers.database()).sql;
    const config = NotifyConfig.parse({ reopenWithinS });
    const { clock, alerts, workOrders } = ledgerOver(sql, { reopenWithinMs: reopenWindowsMs(config.reopenWithinS) });
    /** Raise, clear automatically after a minute, wait `gapMs`, raise again: the two alerts' ids. */
    const flap = async (kind: AlertKind, gapMs: number, severity: 'warning' | 'critical' = 'warning') => {
      const first = (await alerts.apply(raise(kind, 'x-1', severity)))!;
      clock.advance(MIN);
      expect(await alerts.apply(clear(kind, 'x-1'))).toMatchObject({ state: 'resolved', resolvedBy: 'system' });
      clock.advance(gapMs);
      const again = (await alerts.apply(raise(kind, 'x-1', severity)))!;
      return { first, again };
    };
    return { clock, alerts, workOrders, flap };
  }

  describe('the reopen window is per alert kind', () => {
    it.each<[AlertKind, number]>([
      ['device_offline', 6 * HOUR], // radio links fade and return over hours
      ['gateway_offline', 6 * HOUR],
      ['battery_low', 7 * DAY], // a weak cell recovers in the afternoon, sags at night, until swapped
      ['facility_tilt', 3 * HOUR], // a warning-level tilt swaying through one storm
      ['watering_needed', 15 * MIN], // each dry spell is a new task for the crew
      ['sensor_out_of_range', HOUR],
      ['valve_no_ack', HOUR],
    ])('%s: back %i ms after its automatic clear reopens the same alert, a millisecond later it is a new one', async (kind, windowMs) => {
      expect(DEFAULT_REOPEN_WITHIN_MS[kind]).toBe(windowMs);
      const inside = await (await setup()).flap(kind, windowMs);
      expect(inside.again).toMatchObject({ id: inside.first.id, state: 'firing', details: expect.objectContaining({ reopened: 1 }) });
      const outside = await (await setup()).flap(kind, windowMs + 1);
      expect(outside.again.id).not.toBe(outside.first.id);
      expect(outside.again.details?.reopened).toBeUndefined();
    });

    it('a device back offline 5 h after it reported again is the same alert; a probe wobbling 5 h apart is two', async () => {
      const t = await setup();
      const offline = await t.flap('device_offline', 5 * HOUR);
      expect(offline.again.id).toBe(offline.first.id);
      expect(await t.alerts.list({ kind: 'device_offline' })).toHaveLength(1);
      expect(await t.workOrders.list({ alertId: offline.first.id })).toEqual([expect.objectContaining({ state: 'open' })]);
      const probe = await t.flap('sensor_out_of_range', 5 * HOUR);
      expect(probe.again.id).not.toBe(probe.first.id);
    });

    it('takes the notify config: a kind given there changes, 0 turns reopening off, the others keep their defaults', async () => {
      const t = await setup({ device_offline: 600, watering_needed: 0 });
      const soon = await t.flap('device_offline', 10 * MIN);
      expect(soon.again.id).toBe(soon.first.id);
      t.clock.advance(DAY);
      const late = await t.flap('device_offline', 10 * MIN + 1);
      expect(late.again.id).not.toBe(late.first.id);
      const watering = await t.flap('watering_needed', 1_000);
      expect(watering.again.id).not.toBe(watering.first.id);
      const battery = await t.flap('battery_low', 3 * DAY);
      expect(battery.again.id).toBe(battery.first.id);
    });
  });

  describe('facility_tilt: a re-tilt after a recorded repair is a new fault, never the closed work order again', () => {
    const repair = async (t: Awaited<ReturnType<typeof setup>>, alertId: number) => {
      const wo = (await t.workOrders.forAlert(alertId))!.id;
      await t.workOrders.act(wo, { action: 'assign', assignee: 'wang' }, 'op');
      await t.workOrders.act(wo, { action: 'accept' }, 'wang');
      t.clock.advance(30 * MIN);
      await t.workOrders.act(wo, { action: 'resolve', note: 'rope re-tensioned, anchor bolt replaced' }, 'wang');
      t.clock.advance(10 * MIN);
      await t.workOrders.act(wo, { action: 'verify', note: '复查合格' }, 'op');
      return wo;
    };

    it('a critical (sticky) tilt closed through its work order: the next tilt, minutes later, opens a new alert and work order', async () => {
      const t = await setup();
      const first = (await t.alerts.apply(raise('facility_tilt', 'rope-1', 'critical')))!;
      t.clock.advance(MIN);
      expect(await t.alerts.apply(clear('facility_tilt', 'rope-1'))).toMatchObject({ id: first.id, state: 'firing' }); // sticky: readings alone do not resolve it
      const wo = await repair(t, first.id);
      expect(await t.alerts.get(first.id)).toMatchObject({ state: 'resolved', resolvedBy: 'op' });
      t.clock.advance(5 * MIN);
      const again = (await t.alerts.apply(raise('facility_tilt', 'rope-1', 'critical')))!;
      expect(again.id).not.toBe(first.id);
      expect(await t.workOrders.get(wo)).toMatchObject({ state: 'closed', closedBy: 'op' });
      expect(await t.workOrders.forAlert(again.id)).toMatchObject({ state: 'open' });
    });

    it('a warning tilt that cleared by itself while the technician was on the way, then repaired and verified: a re-tilt inside the 3 h window is still new', async () => {
      const t = await setup();
      const first = (await t.alerts.apply(raise('facility_tilt', 'rope-1', 'warning')))!;
      const wo = (await t.workOrders.forAlert(first.id))!.id;
      await t.workOrders.act(wo, { action: 'assign', assignee: 'wang' }, 'op');
      t.clock.advance(MIN);
      expect(await t.alerts.apply(clear('facility_tilt', 'rope-1'))).toMatchObject({ state: 'resolved', resolvedBy: 'system' });
      await t.workOrders.act(wo, { action: 'resolve', note: 'rope re-tensioned' }, 'wang');
      await t.workOrders.act(wo, { action: 'verify' }, 'op');
      t.clock.advance(20 * MIN);
      const again = (await t.alerts.apply(raise('facility_tilt', 'rope-1', 'warning')))!;
      expect(again.id).not.toBe(first.id);
      expect(await t.workOrders.get(wo)).toMatchObject({ state: 'closed' });
      expect((await t.workOrders.history(wo)).map((e) => e.action)).not.toContain('reopen');
      expect(await t.workOrders.forAlert(again.id)).toMatchObject({ state: 'open' });
    });

    it('a warning tilt that cleared before anyone was dispatched and came back 2 h later: the same alert, its cancelled work order reopened', async () => {
      const t = await setup();
      const { first, again } = await t.flap('facility_tilt', 2 * HOUR);
      expect(again.id).toBe(first.id);
      const wo = (await t.workOrders.forAlert(first.id))!;
      expect(wo.state).toBe('open');
      expect((await t.workOrders.history(wo.id)).map((e) => e.action)).toEqual(['open', 'cancel', 'reopen']);
    });
  });

  describe('a reopened work order keeps its deadline, with the time it stood cancelled added', () => {
    it('a low battery back 2 days after it cleared is the same fault, and its work order is not overdue on arrival', async () => {
      const t = await setup();
      const a = (await t.alerts.apply(raise('battery_low', 'soil-7', 'warning')))!;
      const createdAt = (await t.workOrders.forAlert(a.id))!.createdAt;
      t.clock.advance(2 * HOUR);
      await t.alerts.apply(clear('battery_low', 'soil-7')); // afternoon warmth: the work order is cancelled
      t.clock.advance(2 * DAY);
      expect((await t.alerts.apply(raise('battery_low', 'soil-7', 'warning')))!.id).toBe(a.id);
      const wo = (await t.workOrders.forAlert(a.id))!;
      // 24 h for a warning, of which 2 h ran before the clear; the 2 days it stood cancelled do not count.
      expect(wo).toMatchObject({ state: 'open', overdue: false, dueAt: createdAt + 24 * HOUR + 2 * DAY });
      t.clock.advance(22 * HOUR + 1);
      expect((await t.workOrders.get(wo.id))!.overdue).toBe(true);
    });
  });
});
