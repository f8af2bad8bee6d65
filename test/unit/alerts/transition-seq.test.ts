import { describe, expect, it } from 'vitest';
import type { AlertTransition } from '../../../contracts/alert.ts';
import { ENGINES, useLedgers, ledgerOver, raise, clear, MIN } from './helpers.ts';

/**
 * Each transition kept in an alert's history carries its row's id as `seq`: the order the
 * notifier trusts when it hears one alert's transitions from two nodes (notify/decide.ts).
 */
describe.each(ENGINES)('transition seq on %s', (engine) => {
  const ledger = useLedgers(engine);

  it('is the id of the history row each kept transition wrote, rising; a restatement (not kept) has none', async () => {
    const { alerts, transitions, clock } = await ledger();
    const a = (await alerts.apply(raise('gateway_offline', 'gw-1', 'warning', '网关 gw-1 离线，其后 1 台设备无数据')))!;
    clock.advance(MIN);
    await alerts.apply(raise('gateway_offline', 'gw-1', 'warning', '网关 gw-1 离线，其后 2 台设备无数据'));
    await alerts.apply(raise('gateway_offline', 'gw-1', 'critical', '网关 gw-1 离线，其后 9 台设备无数据'));
    await alerts.acknowledge(a.id, { by: 'wang' });
    await alerts.apply(clear('gateway_offline', 'gw-1'));
    await alerts.apply(raise('gateway_offline', 'gw-1')); // back within the window: reopened
    expect(transitions.map((t) => t.to)).toEqual(['firing', 'restated', 'severity_raised', 'acknowledged', 'resolved', 'acknowledged']);
    expect(transitions[1]!.seq).toBeUndefined();
    const kept = transitions.filter((t) => t.to !== 'restated');
    expect(kept.map((t) => t.seq)).toEqual((await alerts.transitions(a.id)).map((r) => r.id));
    const seqs = kept.map((t) => t.seq!);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
  });
});

describe('transition seq across nodes on one PostgreSQL', () => {
  const ledger = useLedgers('postgres');

  it('orders a resolve on one node and a reopen on the other as the database did: the highest seq states the alert as it is', async () => {
    const { url } = await ledger.database();
    const a = ledgerOver(ledger.pool(url!));
    const b = ledgerOver(ledger.pool(url!));
    const first = (await a.alerts.apply(raise('battery_low', 'd-1')))!;
    // Either order happens (both seen in runs here: the resolve last, or the reopen last); whichever, the highest seq is the alert's state.
    for (let round = 0; round < 30; round++) {
      if ((await a.alerts.get(first.id))!.state === 'resolved') await a.alerts.apply(raise('battery_low', 'd-1'));
      await Promise.all([b.alerts.apply(clear('battery_low', 'd-1')), a.alerts.apply(raise('battery_low', 'd-1'))]);
      const heard: AlertTransition[] = [...a.transitions, ...b.transitions].filter((t) => t.alert.id === first.id);
      const last = heard.reduce((x, y) => (y.seq! > x.seq! ? y : x));
      const now = (await a.alerts.get(first.id))!;
      expect(last.alert.state).toBe(now.state);
    }
    const heard = [...a.transitions, ...b.transitions].filter((t) => t.alert.id === first.id);
    expect(heard.map((t) => t.seq).sort((x, y) => x! - y!)).toEqual((await a.alerts.transitions(first.id)).map((r) => r.id));
  });
});
