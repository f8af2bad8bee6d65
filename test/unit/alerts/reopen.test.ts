import { describe, expect, it } from 'vitest';
import { ENGINES, useLedgers, raise, clear, MIN, HOUR, type Ledgers } from './helpers.ts';
import { DEFAULT_REOPEN_WITHIN_MS } from '../../../alerts/reopen.ts';

const WINDOW_MS = DEFAULT_REOPEN_WITHIN_MS.sensor_out_of_range;

type Ledger = Awaited<ReturnType<Ledgers>>;

/** What happens between the automatic clear and the condition coming back. */
const between: Record<string, (l: Ledger, id: number) => Promise<void>> = {
  nothing: async () => {},
  acknowledged: async (l, id) => void (await l.alerts.acknowledge(id, { by: 'wang' })),
  'work order assigned': async (l, id) => void (await l.workOrders.act((await l.workOrders.forAlert(id))!.id, { action: 'assign', assignee: 'wang' }, 'op')),
};

describe.each(ENGINES)('a condition back shortly after an automatic clear reopens the same alert (%s)', (engine) => {
  const createLedger = useLedgers(engine);

  it.each([
    // [before the clear, gap after the clear, same alert?, state after, work order state after]
    ['nothing', 30_000, true, 'firing', 'open'],
    ['nothing', WINDOW_MS, true, 'firing', 'open'],
    ['nothing', WINDOW_MS + 1, false, 'firing', 'open'],
    ['acknowledged', 5 * MIN, true, 'acknowledged', 'open'],
    ['work order assigned', 5 * MIN, true, 'firing', 'assigned'],
  ] as const)('%s, back after %i ms → same alert: %s (%s, work order %s)', async (before, gapMs, same, state, woState) => {
    const l = await createLedger();
    const first = (await l.alerts.apply(raise('sensor_out_of_range', 's-1')))!;
    await between[before]!(l, first.id);
    l.clock.advance(MIN);
    expect(await l.alerts.apply(clear('sensor_out_of_range', 's-1'))).toMatchObject({ state: 'resolved', resolvedBy: 'system' });
    l.clock.advance(gapMs);
    const again = (await l.alerts.apply(raise('sensor_out_of_range', 's-1')))!;
    expect(again.id === first.id).toBe(same);
    expect(again).toMatchObject({ state, resolvedAt: null, resolvedBy: null });
    expect(await l.alerts.list({ subject: 's-1' })).toHaveLength(same ? 1 : 2);
    expect(await l.workOrders.forAlert(again.id)).toMatchObject({ state: woState });
    expect((await l.workOrders.list()).filter((w) => w.state !== 'cancelled')).toHaveLength(1);
    if (same) {
      expect(again.details).toMatchObject({ reopened: 1, occurrences: 2 });
      expect((await l.alerts.transitions(first.id)).map((t) => [t.from, t.to]).slice(-2)).toEqual([[state === 'acknowledged' ? 'acknowledged' : 'firing', 'resolved'], ['resolved', state]]);
    }
  });

  it.each([
    ['resolved by a person', async (l: Ledger, id: number) => void (await l.alerts.resolve(id, { by: 'op', note: 'replaced the probe' }))],
    ['closed through its work order', async (l: Ledger, id: number) => {
      const wo = (await l.workOrders.forAlert(id))!.id;
      await l.workOrders.act(wo, { action: 'assign', assignee: 'wang' }, 'op');
      await l.workOrders.act(wo, { action: 'resolve', note: 'probe reseated' }, 'wang');
      await l.workOrders.act(wo, { action: 'verify' }, 'op');
    }],
    ['auto-cleared, but its work order then closed with a fix', async (l: Ledger, id: number) => {
      const wo = (await l.workOrders.forAlert(id))!.id;
      await l.workOrders.act(wo, { action: 'assign', assignee: 'wang' }, 'op');
      await l.alerts.apply(clear('sensor_out_of_range', 's-1'));
      await l.workOrders.act(wo, { action: 'resolve', note: 'probe reseated' }, 'wang');
    }],
  ])('an alert %s is never reopened: a recurrence after a fix is a new fault', async (_name, end) => {
    const l = await createLedger();
    const first = (await l.alerts.apply(raise('sensor_out_of_range', 's-1')))!;
    await end(l, first.id);
    expect((await l.alerts.get(first.id))!.state).toBe('resolved');
    l.clock.advance(MIN);
    const again = (await l.alerts.apply(raise('sensor_out_of_range', 's-1')))!;
    expect(again.id).not.toBe(first.id);
    expect(await l.workOrders.forAlert(again.id)).toMatchObject({ state: 'open' });
  });

  it('reopens with the higher severity and a tighter deadline, never a lower one', async () => {
    const l = await createLedger();
    const a = (await l.alerts.apply(raise('battery_low', 's-1', 'warning')))!;
    await l.alerts.apply(clear('battery_low', 's-1'));
    l.clock.advance(MIN);
    expect(await l.alerts.apply(raise('battery_low', 's-1', 'critical'))).toMatchObject({ id: a.id, severity: 'critical' });
    // Critical's 4 h from the opening, plus the minute the cancelled order waited (the SLA clock stood still).
    expect(await l.workOrders.forAlert(a.id)).toMatchObject({ state: 'open', severity: 'critical', dueAt: a.firstFiredAt + 4 * HOUR + MIN });
    await l.alerts.apply(clear('battery_low', 's-1'));
    expect(await l.alerts.apply(raise('battery_low', 's-1', 'warning'))).toMatchObject({ id: a.id, severity: 'critical' });
  });

  it('a signal flapping every 4.5 s for an hour is one alert, one work order, and no new firing after the first', async () => {
    const l = await createLedger();
    for (let i = 0; i < 800; i++) {
      await l.alerts.apply(raise('sensor_out_of_range', 's-1'));
      l.clock.advance(2_000);
      await l.alerts.apply(clear('sensor_out_of_range', 's-1'));
      l.clock.advance(2_500);
    }
    expect(await l.alerts.list({ subject: 's-1' })).toHaveLength(1);
    expect(await l.workOrders.list()).toHaveLength(1);
    expect((await l.workOrders.history((await l.workOrders.list())[0]!.id)).filter((e) => e.action === 'open')).toHaveLength(1);
    expect(l.transitions.filter((t) => t.to === 'firing' && t.from === undefined)).toHaveLength(1);
  });
});
