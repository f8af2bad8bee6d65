import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLedger, ENGINES, useLedgers, ledgerOver, raise, clear, MIN } from './helpers.ts';
import { DEFAULT_REOPEN_WITHIN_MS } from '../../../alerts/reopen.ts';

describe.each(ENGINES)('alert lifecycle on %s', (engine) => {
  const ledger = useLedgers(engine);

  it('keeps one active alert per (kind, subject) however often the condition is signalled', async () => {
    const { alerts, workOrders, transitions } = await ledger();
    // Many signals for the same key, interleaved with another key, "at once".
    await Promise.all(Array.from({ length: 20 }, (_, i) => Promise.resolve().then(() => alerts.apply(raise(i % 2 ? 'facility_impact' : 'device_offline', i % 2 ? 'f-1' : 's-1')))));
    const active = await alerts.list({ active: true });
    expect(active.map((a) => [a.kind, a.subject]).sort()).toEqual([['device_offline', 's-1'], ['facility_impact', 'f-1']]);
    expect(transitions.map((t) => t.to)).toEqual(['firing', 'firing']);
    expect(active.find((a) => a.kind === 'facility_impact')!.details).toMatchObject({ occurrences: 10 });
    expect(await workOrders.list()).toHaveLength(2);
  });

  it('escalates severity in place (same alert, a "severity_raised" transition, a tighter SLA) and never lowers it', async () => {
    const { alerts, workOrders, transitions, clock } = await ledger();
    const first = (await alerts.apply(raise('facility_tilt', 'f-1', 'warning')))!;
    const dueBefore = (await workOrders.forAlert(first.id))!.dueAt;
    clock.advance(MIN);
    const up = (await alerts.apply(raise('facility_tilt', 'f-1', 'critical', 'tilted 6°')))!;
    expect(up).toMatchObject({ id: first.id, severity: 'critical', message: 'tilted 6°', state: 'firing' });
    expect((await workOrders.forAlert(first.id))!.dueAt).toBeLessThan(dueBefore);
    await alerts.apply(raise('facility_tilt', 'f-1', 'warning'));
    expect((await alerts.get(first.id))!.severity).toBe('critical');
    expect(transitions.map((t) => [t.from, t.to, t.alert.severity])).toEqual([[undefined, 'firing', 'warning'], ['firing', 'severity_raised', 'critical']]);
  });

  it('firing → acknowledged → resolved automatically when a non-damage condition clears, and a new alert after the reopen window', async () => {
    const { alerts, transitions, clock } = await ledger();
    const a = (await alerts.apply(raise('battery_low', 'd-1')))!;
    clock.advance(5 * MIN);
    expect(await alerts.acknowledge(a.id, { by: 'wang', note: 'spare batteries on the van' })).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'wang', acknowledgedAt: a.firstFiredAt + 5 * MIN });
    await expect(alerts.acknowledge(a.id, { by: 'li' })).rejects.toThrow(/only a firing alert/);
    clock.advance(MIN);
    expect(await alerts.apply(clear('battery_low', 'd-1'))).toMatchObject({ id: a.id, state: 'resolved', resolvedBy: 'system', resolutionNote: 'back to normal' });
    expect(await alerts.apply(clear('battery_low', 'd-1'))).toBeUndefined();
    // Back within the reopen window it would be the same alert (reopen.test.ts); after it, a new one.
    clock.advance(DEFAULT_REOPEN_WITHIN_MS.battery_low + 1);
    expect((await alerts.apply(raise('battery_low', 'd-1')))!.id).not.toBe(a.id);
    expect(transitions.map((t) => `${t.alert.id}:${t.to}:${t.by}`)).toEqual([`${a.id}:firing:system`, `${a.id}:acknowledged:wang`, `${a.id}:resolved:system`, `${a.id + 1}:firing:system`]);
    expect((await alerts.transitions(a.id)).map((t) => [t.from, t.to, t.note])).toEqual([[null, 'firing', 'battery_low on d-1'], ['firing', 'acknowledged', 'spare batteries on the van'], ['acknowledged', 'resolved', 'back to normal']]);
  });

  it('keeps facility damage flagged when readings recover: clear is recorded, the alert stays active', async () => {
    const { alerts } = await ledger();
    const a = (await alerts.apply(raise('facility_impact', 'f-1', 'critical')))!;
    expect(await alerts.apply(clear('facility_impact', 'f-1'))).toMatchObject({ id: a.id, state: 'firing', details: expect.objectContaining({ clearReason: 'back to normal' }) });
    const tilt = (await alerts.apply(raise('facility_tilt', 'f-2', 'critical')))!;
    expect(await alerts.apply(clear('facility_tilt', 'f-2'))).toMatchObject({ id: tilt.id, state: 'firing' });
    // A warning-level tilt is not damage: it resolves by itself.
    await alerts.apply(raise('facility_tilt', 'f-3', 'warning'));
    expect(await alerts.apply(clear('facility_tilt', 'f-3'))).toMatchObject({ state: 'resolved' });
  });

  it.each([
    ['facility_impact', undefined, /only with a note/],
    ['facility_impact', '   ', /only with a note/],
    ['facility_settlement', 'checked', /closing work order/],
  ] as const)('refuses a manual resolve of %s with note %j', async (kind, note, error) => {
    const { alerts } = await ledger();
    const a = (await alerts.apply(raise(kind, 'f-1')))!;
    await expect(alerts.resolve(a.id, { by: 'op', note })).rejects.toThrow(error);
    expect((await alerts.get(a.id))!.state).toBe('firing');
  });

  it('lets a person resolve a non-damage alert without a note, cancelling its undispatched work order', async () => {
    const { alerts, workOrders } = await ledger();
    const a = (await alerts.apply(raise('sensor_stuck', 's-1')))!;
    expect(await alerts.resolve(a.id, { by: 'op' })).toMatchObject({ state: 'resolved', resolvedBy: 'op' });
    expect(await workOrders.forAlert(a.id)).toMatchObject({ state: 'cancelled' });
    await expect(alerts.resolve(a.id, { by: 'op' })).rejects.toThrow(/already resolved/);
  });

  it('stores comments and refuses unknown alerts', async () => {
    const { alerts } = await ledger();
    const a = (await alerts.apply(raise('device_offline', 's-1')))!;
    await alerts.comment(a.id, { by: 'li', text: 'gateway on the roof lost power' });
    expect(await alerts.comments(a.id)).toEqual([expect.objectContaining({ by: 'li', text: 'gateway on the roof lost power' })]);
    await expect(alerts.comment(999, { by: 'li', text: 'x' })).rejects.toThrow(/no alert 999/);
  });

  it('opens no work order for info alerts, watering tasks and infeasible zones (a settings change, not a visit)', async () => {
    const { alerts, workOrders } = await ledger();
    await alerts.apply(raise('clock_skew', 's-1', 'info'));
    await alerts.apply(raise('watering_needed', 'z-1', 'warning'));
    await alerts.apply(raise('zone_infeasible', 'z-2', 'warning'));
    await alerts.apply(raise('zone_infeasible', 'z-2', 'critical')); // not even once its severity rises
    expect(await workOrders.list()).toEqual([]);
    expect((await alerts.allActive()).map((a) => a.kind).sort()).toEqual(['clock_skew', 'watering_needed', 'zone_infeasible']);
  });

  it('isolates a failing listener: the others still get the transition', async () => {
    const { alerts, transitions } = await ledger();
    alerts.onTransition(() => { throw new Error('listener bug'); });
    const seen: string[] = [];
    alerts.onTransition((t) => seen.push(t.to));
    await alerts.apply(raise('device_offline', 's-1'));
    expect(seen).toEqual(['firing']);
    expect(transitions).toHaveLength(1);
  });
});

describe('one active alert and one work order across writers', () => {
  it('holds "one active alert, one work order" across two connections to one database file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gs-alerts-'));
    try {
      const a = createLedger(join(dir, 'db.sqlite'));
      const b = createLedger(join(dir, 'db.sqlite'));
      for (let i = 0; i < 10; i++) await (i % 2 ? a : b).alerts.apply(raise('facility_impact', 'f-9', i < 5 ? 'warning' : 'critical'));
      const rows = a.db.prepare("SELECT count(*) AS n FROM alerts WHERE kind = 'facility_impact' AND subject = 'f-9'").get() as { n: number };
      expect(rows.n).toBe(1);
      expect(await a.workOrders.list()).toHaveLength(1);
      expect((await b.alerts.list())[0]).toMatchObject({ severity: 'critical' });
      // The database refuses a second active row even from a writer that skips the service.
      expect(() => a.db.prepare("INSERT INTO alerts (kind, subject, severity, state, message, first_fired_at, last_changed_at) VALUES ('facility_impact', 'f-9', 'warning', 'firing', 'x', 0, 0)").run()).toThrow(/UNIQUE/);
      a.db.close(); b.db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

});

describe('one active alert and one work order across nodes on one PostgreSQL', () => {
  const ledger = useLedgers('postgres');

  it('gives one alert and one work order when two nodes raise the same signal at once, many times over', async () => {
    const { url } = await ledger.database();
    // Two nodes: each its own pool, its own alert service, its own clock; one database.
    const a = ledgerOver(ledger.pool(url!));
    const b = ledgerOver(ledger.pool(url!));
    for (let round = 0; round < 25; round++) {
      const subject = `f-${round}`;
      const signals = Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).alerts.apply(raise('facility_impact', subject, i < 4 ? 'warning' : 'critical')));
      await Promise.all(signals);
      const active = await a.alerts.list({ subject, active: true });
      expect(active).toHaveLength(1);
      expect(active[0]).toMatchObject({ severity: 'critical', details: expect.objectContaining({ occurrences: 8 }) });
      expect(await b.workOrders.list({ subject })).toHaveLength(1);
    }
    // Raised once per subject, whichever node won: 25 firing transitions between the two nodes.
    expect([...a.transitions, ...b.transitions].filter((t) => t.to === 'firing')).toHaveLength(25);
    expect((await a.sql.one<{ n: number }>('SELECT count(*) AS n FROM alerts'))!.n).toBe(25);
    expect((await a.sql.one<{ n: number }>('SELECT count(*) AS n FROM work_orders'))!.n).toBe(25);
    // The database refuses a second active row even from a writer that skips the service.
    await expect(a.sql.run("INSERT INTO alerts (kind, subject, severity, state, message, first_fired_at, last_changed_at) VALUES ('facility_impact', 'f-0', 'warning', 'firing', 'x', 0, 0)"))
      .rejects.toThrow(/alerts_one_active/);
  });

  it('loses none of an acknowledgement and two raises of one alert that two nodes apply at once', async () => {
    const { url } = await ledger.database();
    const a = ledgerOver(ledger.pool(url!));
    const b = ledgerOver(ledger.pool(url!));
    const first = (await a.alerts.apply(raise('battery_low', 'd-1')))!;
    await Promise.all([b.alerts.acknowledge(first.id, { by: 'wang' }), a.alerts.apply(raise('battery_low', 'd-1', 'critical')), b.alerts.apply(raise('battery_low', 'd-1'))]);
    const now = (await b.alerts.get(first.id))!;
    expect(now).toMatchObject({ state: 'acknowledged', severity: 'critical', acknowledgedBy: 'wang', details: expect.objectContaining({ occurrences: 3 }) });
    expect((await a.alerts.transitions(first.id)).map((t) => t.to).sort()).toEqual(['acknowledged', 'firing', 'severity_raised']);
  });
});
