import { describe, expect, it } from 'vitest';
import { alertResponse } from '../../../assessment/response.ts';
import { ENGINES, useLedgers, HOUR, MIN, T0 } from '../alerts/helpers.ts';

/**
 * The scorecard's SLA figures count "overdue" as the ledger does (alerts/work-orders/sla.ts
 * isOverdue): the work-order list's `overdue` flag and the scorecard can never disagree.
 */
describe.each(ENGINES)('response figures on %s: SLA compliance by the work orders\' own overdue rule', (engine) => {
  const createLedger = useLedgers(engine);

  it('counts fixed orders and unfixed overdue ones as due, on time only when fixed by the deadline', async () => {
    const t = await createLedger();
    const open = async (subject: string, severity: 'warning' | 'critical') => {
      const alert = (await t.alerts.apply({ action: 'raise', kind: 'device_offline', subject, severity, message: 'offline', communityId: 'c-1', districtId: 'd-1', at: t.clock.now() }))!;
      const id = (await t.workOrders.forAlert(alert.id))!.id;
      await t.workOrders.act(id, { action: 'assign', assignee: 'wang' }, 'op');
      return id;
    };
    const onTime = await open('s-on-time', 'critical'); // SLA 4 h
    const late = await open('s-late', 'critical');
    const overdue = await open('s-overdue', 'critical');
    const notYetDue = await open('s-fresh', 'warning'); // SLA 24 h
    t.clock.advance(2 * HOUR);
    await t.workOrders.act(onTime, { action: 'resolve', note: 'fixed' }, 'wang');
    t.clock.advance(3 * HOUR); // 5 h: past the critical deadline
    await t.workOrders.act(late, { action: 'resolve', note: 'fixed late' }, 'wang');
    const until = t.clock.now() + 10 * MIN;

    const figures = (await alertResponse(t.sql, T0, T0 + 24 * HOUR, until)).get('c-1');
    expect(figures).toMatchObject({ alerts: 4, workOrdersDue: 3, workOrdersOnTime: 1, slaCompliance: 1 / 3, mttrMs: (2 * HOUR + 5 * HOUR) / 2 });

    // The same verdicts as the work-order list gives at the same moment.
    t.clock.set(until);
    const flagged = new Map((await t.workOrders.list()).map((w) => [w.id, w.overdue]));
    expect([onTime, late, overdue, notYetDue].map((id) => flagged.get(id))).toEqual([false, true, true, false]);
  });
});
