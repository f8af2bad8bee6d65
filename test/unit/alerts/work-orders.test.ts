import { describe, expect, it } from 'vitest';
import { nextWorkOrderState, type WorkOrderAction, type WorkOrderState } from '../../../alerts/work-orders/machine.ts';
import { dueAt, isOverdue, DEFAULT_SLA_MS } from '../../../alerts/work-orders/sla.ts';
import { workOrdersToCsv } from '../../../alerts/work-orders/csv.ts';
import { ENGINES, useLedgers, raise, T0, HOUR, MIN } from './helpers.ts';

const A: Record<string, WorkOrderAction> = {
  assign: { action: 'assign', assignee: 'wang' },
  accept: { action: 'accept' },
  resolve: { action: 'resolve', note: 'reset the post' },
  verify: { action: 'verify' },
  reject: { action: 'reject', note: 'still leaning' },
  cancel: { action: 'cancel', note: 'cleared' },
};

describe('work-order state machine', () => {
  const table: Array<[WorkOrderState, keyof typeof A, WorkOrderState | null]> = [
    ['open', 'assign', 'assigned'], ['open', 'accept', null], ['open', 'resolve', null], ['open', 'verify', null], ['open', 'cancel', 'cancelled'],
    ['assigned', 'assign', 'assigned'], ['assigned', 'accept', 'accepted'], ['assigned', 'resolve', 'resolved'], ['assigned', 'verify', null], ['assigned', 'cancel', null],
    ['accepted', 'assign', 'assigned'], ['accepted', 'resolve', 'resolved'], ['accepted', 'accept', null],
    ['resolved', 'verify', 'closed'], ['resolved', 'reject', 'assigned'], ['resolved', 'assign', null], ['resolved', 'resolve', null],
    ['closed', 'verify', null], ['closed', 'assign', null], ['closed', 'reject', null], ['cancelled', 'assign', null],
  ];
  it.each(table)('%s --%s--> %s', async (from, action, to) => {
    const r = nextWorkOrderState(from, A[action]!);
    if (to) expect(r).toEqual({ ok: true, value: to });
    else expect(r).toMatchObject({ ok: false, error: expect.stringContaining(`cannot ${action}`) });
  });
});

describe('SLA', () => {
  it.each([
    ['critical', 4 * HOUR], ['warning', 24 * HOUR], ['info', 72 * HOUR],
  ] as const)('%s work orders are due %i ms after opening', async (severity, ms) => {
    expect(DEFAULT_SLA_MS[severity]).toBe(ms);
    expect(dueAt(T0, severity)).toBe(T0 + ms);
  });

  it.each([
    ['open, before the deadline', 'open', null, T0 + HOUR - 1, false],
    ['open, at the deadline', 'open', null, T0 + HOUR, false],
    ['accepted, past the deadline', 'accepted', null, T0 + HOUR + 1, true],
    ['resolved in time, checked later', 'resolved', T0 + HOUR, T0 + 10 * HOUR, false],
    ['closed, fixed late', 'closed', T0 + HOUR + 1, T0 + 10 * HOUR, true],
    ['cancelled', 'cancelled', null, T0 + 10 * HOUR, false],
  ] as const)('%s → overdue %s', async (_name, state, resolvedAt, now, overdue) => {
    expect(isOverdue({ state, dueAt: T0 + HOUR, resolvedAt }, now)).toBe(overdue);
  });
});

describe.each(ENGINES)('the ledger on %s', (engine) => {
  const createLedger = useLedgers(engine);

  it('walks a fault from open to closed (销号), recording who and when, and resolves the alert with the fix', async () => {
    const { alerts, workOrders, clock, transitions } = await createLedger();
    const alert = (await alerts.apply(raise('facility_impact', 'pav-1', 'critical', 'pavilion pav-1: impact')))!;
    const wo = (await workOrders.forAlert(alert.id))!;
    expect(wo).toMatchObject({ state: 'open', severity: 'critical', dueAt: T0 + 4 * HOUR, title: 'pavilion pav-1: impact', communityId: 'c-1', alertKind: 'facility_impact', subject: 'pav-1' });
    clock.advance(10 * MIN);
    await workOrders.act(wo.id, { action: 'assign', assignee: 'wang' }, 'dispatcher');
    clock.advance(5 * MIN);
    await workOrders.act(wo.id, { action: 'accept' }, 'wang');
    expect(await alerts.get(alert.id)).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'wang', acknowledgedAt: T0 + 15 * MIN });
    clock.advance(2 * HOUR);
    await workOrders.act(wo.id, { action: 'resolve', note: 'replaced the cracked post', photoUrl: 'https://photos.example/1.jpg' }, 'wang');
    await expect(alerts.resolve(alert.id, { by: 'op', note: 'fine' })).rejects.toThrow(/closing work order/);
    clock.advance(HOUR);
    const closed = await workOrders.act(wo.id, { action: 'verify', note: 'checked on site' }, 'op-zhao');
    expect(closed).toMatchObject({ state: 'closed', closedBy: 'op-zhao', resolvedAt: T0 + 135 * MIN, closedAt: T0 + 195 * MIN, overdue: false, photoUrl: 'https://photos.example/1.jpg' });
    expect(await alerts.get(alert.id)).toMatchObject({ state: 'resolved', resolvedBy: 'op-zhao', resolutionNote: `work order ${wo.id} closed: replaced the cracked post / checked on site` });
    expect((await workOrders.history(wo.id)).map((e) => [e.action, e.from, e.to, e.by])).toEqual([
      ['open', null, 'open', 'system'], ['assign', 'open', 'assigned', 'dispatcher'], ['accept', 'assigned', 'accepted', 'wang'],
      ['resolve', 'accepted', 'resolved', 'wang'], ['verify', 'resolved', 'closed', 'op-zhao'],
    ]);
    expect(transitions.map((t) => t.to)).toEqual(['firing', 'acknowledged', 'resolved']);
    await expect(workOrders.act(wo.id, { action: 'verify' }, 'op')).rejects.toThrow(/cannot verify a work order that is closed/);
  });

  it('sends a rejected fix back to the technician, and flags it overdue once the deadline passes', async () => {
    const { alerts, workOrders, clock } = await createLedger();
    const alert = (await alerts.apply(raise('device_offline', 's-1')))!;
    const wo = (await workOrders.forAlert(alert.id))!;
    await workOrders.act(wo.id, { action: 'assign', assignee: 'li' }, 'op');
    await workOrders.act(wo.id, { action: 'resolve', note: 'rebooted' }, 'li');
    expect(await workOrders.act(wo.id, { action: 'reject', note: 'still silent' }, 'op')).toMatchObject({ state: 'assigned', resolvedAt: null });
    expect(await workOrders.list({ overdue: true })).toEqual([]);
    clock.advance(24 * HOUR + 1);
    expect((await workOrders.list({ overdue: true })).map((w) => w.id)).toEqual([wo.id]);
    expect(await workOrders.list({ overdue: 'false' })).toEqual([]);
  });

  it('never opens a second work order for an alert, and a new alert after resolution gets its own', async () => {
    const { alerts, workOrders } = await createLedger();
    const a = (await alerts.apply(raise('battery_low', 'b-1')))!;
    for (let i = 0; i < 5; i++) await alerts.apply(raise('battery_low', 'b-1', i % 2 ? 'critical' : 'warning'));
    expect(await workOrders.list({ alertId: a.id })).toHaveLength(1);
    await alerts.resolve(a.id, { by: 'op' });
    const b = (await alerts.apply(raise('battery_low', 'b-1')))!;
    expect((await workOrders.list()).map((w) => w.alertId).sort()).toEqual([a.id, b.id]);
  });

  it('filters by state, community, assignee and since', async () => {
    const { alerts, workOrders, clock } = await createLedger();
    const ids: number[] = [];
    for (const s of ['s-1', 's-2', 's-3']) {
      clock.advance(MIN);
      const alert = (await alerts.apply({ ...raise('device_offline', s), communityId: s === 's-3' ? 'c-2' : 'c-1' }))!;
      ids.push((await workOrders.forAlert(alert.id))!.id);
    }
    await workOrders.act(ids[0]!, { action: 'assign', assignee: 'wang' }, 'op');
    expect((await workOrders.list({ state: 'open' })).map((w) => w.id).sort()).toEqual([ids[1], ids[2]].sort());
    expect((await workOrders.list({ community: 'c-2' })).map((w) => w.id)).toEqual([ids[2]]);
    expect((await workOrders.list({ assignee: 'wang' })).map((w) => w.id)).toEqual([ids[0]]);
    expect((await workOrders.list({ since: T0 + 2 * MIN })).map((w) => w.id)).toEqual([ids[2], ids[1]]);
  });

  it('exports CSV with a BOM, quoted cells and neutralised formulas', async () => {
    const { alerts, workOrders } = await createLedger();
    const a = (await alerts.apply(raise('facility_impact', 'f-1', 'critical', '=HYPERLINK("x") 凉亭, "east"')))!;
    const csv = workOrdersToCsv(await workOrders.list({ alertId: a.id }));
    const [header, row] = csv.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(csv.startsWith('\uFEFF')).toBe(true);
    expect(header).toBe('id,alert_id,kind,subject,state,severity,district,community,title,assignee,created_at,due_at,accepted_at,resolved_at,closed_at,closed_by,overdue,resolution,photo_url');
    expect(row).toContain(`,facility_impact,f-1,open,critical,d-1,c-1,"'=HYPERLINK(""x"") 凉亭, ""east""",,${new Date(T0).toISOString()},`);
  });
});
