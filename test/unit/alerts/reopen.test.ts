import { describe, expect, it } from 'vitest';
import { createLedger, raise, clear, MIN, HOUR } from './helpers.ts';
import { DEFAULT_REOPEN_WITHIN_MS } from '../../../alerts/reopen.ts';

const WINDOW_MS = DEFAULT_REOPEN_WITHIN_MS.sensor_out_of_range;

type Ledger = ReturnType<typeof createLedger>;

/** What happens between the automatic clear and the condition coming back. */
const between: Record<string, (l: Ledger, id: number) => void> = {
  nothing: () => {},
  acknowledged: (l, id) => void l.alerts.acknowledge(id, { by: 'wang' }),
  'work order assigned': (l, id) => void l.workOrders.act(l.workOrders.forAlert(id)!.id, { action: 'assign', assignee: 'wang' }, 'op'),
};

describe('a condition back shortly after an automatic clear reopens the same alert', () => {
  it.each([
    // [before the clear, gap after the clear, same alert?, state after, work order state after]
    ['nothing', 30_000, true, 'firing', 'open'],
    ['nothing', WINDOW_MS, true, 'firing', 'open'],
    ['nothing', WINDOW_MS + 1, false, 'firing', 'open'],
    ['acknowledged', 5 * MIN, true, 'acknowledged', 'open'],
    ['work order assigned', 5 * MIN, true, 'firing', 'assigned'],
  ] as const)('%s, back after %i ms → same alert: %s (%s, work order %s)', (before, gapMs, same, state, woState) => {
    const l = createLedger();
    const first = l.alerts.apply(raise('sensor_out_of_range', 's-1'))!;
    between[before]!(l, first.id);
    l.clock.advance(MIN);
    expect(l.alerts.apply(clear('sensor_out_of_range', 's-1'))).toMatchObject({ state: 'resolved', resolvedBy: 'system' });
    l.clock.advance(gapMs);
    const again = l.alerts.apply(raise('sensor_out_of_range', 's-1'))!;
    expect(again.id === first.id).toBe(same);
    expect(again).toMatchObject({ state, resolvedAt: null, resolvedBy: null });
    expect(l.alerts.list({ subject: 's-1' })).toHaveLength(same ? 1 : 2);
    expect(l.workOrders.forAlert(again.id)).toMatchObject({ state: woState });
    expect(l.workOrders.list().filter((w) => w.state !== 'cancelled')).toHaveLength(1);
    if (same) {
      expect(again.details).toMatchObject({ reopened: 1, occurrences: 2 });
      expect(l.alerts.transitions(first.id).map((t) => [t.from, t.to]).slice(-2)).toEqual([[state === 'acknowledged' ? 'acknowledged' : 'firing', 'resolved'], ['resolved', state]]);
    }
  });

  it.each([
    ['resolved by a person', (l: Ledger, id: number) => void l.alerts.resolve(id, { by: 'op', note: 'replaced the probe' })],
    ['closed through its work order', (l: Ledger, id: number) => {
      const wo = l.workOrders.forAlert(id)!.id;
      l.workOrders.act(wo, { action: 'assign', assignee: 'wang' }, 'op');
      l.workOrders.act(wo, { action: 'resolve', note: 'probe reseated' }, 'wang');
      l.workOrders.act(wo, { action: 'verify' }, 'op');
    }],
    ['auto-cleared, but its work order then closed with a fix', (l: Ledger, id: number) => {
      const wo = l.workOrders.forAlert(id)!.id;
      l.workOrders.act(wo, { action: 'assign', assignee: 'wang' }, 'op');
      l.alerts.apply(clear('sensor_out_of_range', 's-1'));
      l.workOrders.act(wo, { action: 'resolve', note: 'probe reseated' }, 'wang');
    }],
  ])('an alert %s is never reopened: a recurrence after a fix is a new fault', (_name, end) => {
    const l = createLedger();
    const first = l.alerts.apply(raise('sensor_out_of_range', 's-1'))!;
    end(l, first.id);
    expect(l.alerts.get(first.id)!.state).toBe('resolved');
    l.clock.advance(MIN);
    const again = l.alerts.apply(raise('sensor_out_of_range', 's-1'))!;
    expect(again.id).not.toBe(first.id);
    expect(l.workOrders.forAlert(again.id)).toMatchObject({ state: 'open' });
  });

  it('reopens with the higher severity and a tighter deadline, never a lower one', () => {
    const l = createLedger();
    const a = l.alerts.apply(raise('battery_low', 's-1', 'warning'))!;
    l.alerts.apply(clear('battery_low', 's-1'));
    l.clock.advance(MIN);
    expect(l.alerts.apply(raise('battery_low', 's-1', 'critical'))).toMatchObject({ id: a.id, severity: 'critical' });
    // Critical's 4 h from the opening, plus the minute the cancelled order waited (the SLA clock stood still).
    expect(l.workOrders.forAlert(a.id)).toMatchObject({ state: 'open', severity: 'critical', dueAt: a.firstFiredAt + 4 * HOUR + MIN });
    l.alerts.apply(clear('battery_low', 's-1'));
    expect(l.alerts.apply(raise('battery_low', 's-1', 'warning'))).toMatchObject({ id: a.id, severity: 'critical' });
  });

  it('a signal flapping every 4.5 s for an hour is one alert, one work order, and no new firing after the first', () => {
    const l = createLedger();
    for (let i = 0; i < 800; i++) {
      l.alerts.apply(raise('sensor_out_of_range', 's-1'));
      l.clock.advance(2_000);
      l.alerts.apply(clear('sensor_out_of_range', 's-1'));
      l.clock.advance(2_500);
    }
    expect(l.alerts.list({ subject: 's-1' })).toHaveLength(1);
    expect(l.workOrders.list()).toHaveLength(1);
    expect(l.workOrders.history(l.workOrders.list()[0]!.id).filter((e) => e.action === 'open')).toHaveLength(1);
    expect(l.transitions.filter((t) => t.to === 'firing' && t.from === undefined)).toHaveLength(1);
  });
});
