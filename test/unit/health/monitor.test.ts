import { describe, expect, it } from 'vitest';
import { createHealthMonitor, type GatewayPort } from '../../../health/monitor.ts';
import { createFacilityBaselines } from '../../../health/facility-baselines.ts';
import { createDeviceRegistry } from '../../../registry/devices.ts';
import { createLogger } from '../../../lib/logger.ts';
import type { AcceptedReading, ReadingFields } from '../../../contracts/reading.ts';
import { createLedger, MIN } from '../alerts/helpers.ts';
import { testHasher } from '../../helpers/hasher.ts';

/** A monitor over a real registry and alert service; the gateway port is a fake here (gateway-port.test.ts covers the registry's). */
async function setup(gateways: GatewayPort = { gatewayOf: () => undefined }) {
  const ledger = createLedger();
  const registry = createDeviceRegistry(ledger.db, { hasher: testHasher });
  const place = { district: 'd-1', community: 'c-1' };
  await registry.register({ id: 'gw-1', kind: 'gateway', reportIntervalS: 60, place });
  await registry.register({ id: 's-1', kind: 'soil', reportIntervalS: 60, place: { ...place, zone: 'z-1' } });
  await registry.register({ id: 's-2', kind: 'soil', reportIntervalS: 60, place: { ...place, zone: 'z-1' } });
  await registry.register({ id: 't-1', kind: 'tilt', reportIntervalS: 60, place: { ...place, facility: 'pav-1', facilityType: 'pavilion' } });
  const baselines = createFacilityBaselines(ledger.db, registry);
  const monitor = createHealthMonitor({
    clock: ledger.clock, logger: createLogger('silent'), alerts: ledger.alerts, devices: registry, gateways, saveBaseline: (id, b) => baselines.save(id, b),
  });
  /** One reading now, and its signals applied (the monitor queues them to the alert service). */
  const send = async (deviceId: string, fields: ReadingFields) => {
    const device = registry.get(deviceId)!;
    const now = ledger.clock.now();
    const reading: AcceptedReading = { deviceId, ts: now, receivedAt: now, kind: device.kind, dedupKey: undefined, fields, source: 'native' };
    monitor.onReading(reading, device);
    await monitor.settled();
  };
  const sweep = async () => {
    monitor.sweep();
    await monitor.settled();
  };
  return { ...ledger, registry, monitor, send, sweep, baselines };
}

describe('health monitor (the edge between readings, detectors and alerts)', () => {
  it('groups offline devices under their offline gateway through the gateway port, excuses them for a threshold after it returns, and recovers one by one', async () => {
    const t = await setup({ gatewayOf: (id) => (id.startsWith('s-') ? 'gw-1' : undefined) });
    for (const id of ['gw-1', 's-1', 's-2', 't-1']) await t.send(id, id === 't-1' ? { pitch: 0, roll: 0 } : id === 'gw-1' ? {} : { moisture: 20 + id.length });
    t.clock.advance(3 * MIN - 1);
    await t.sweep();
    expect(await t.alerts.list()).toEqual([]);
    await t.send('t-1', { pitch: 0.01, roll: 0 });
    t.clock.advance(2);
    await t.sweep();
    expect((await t.alerts.list({ active: true })).map((a) => [a.kind, a.subject, a.details?.devices])).toEqual([['gateway_offline', 'gw-1', ['s-1', 's-2']]]);
    await t.send('gw-1', {});
    expect(await t.alerts.list({ active: true })).toEqual([]);
    // Its devices could not be heard while it was down: they get their own threshold from its return.
    t.clock.advance(MIN);
    await t.sweep();
    expect(await t.alerts.list({ active: true })).toEqual([]);
    await t.send('gw-1', {});
    await t.send('t-1', { pitch: 0.01, roll: 0 });
    t.clock.advance(2 * MIN + 1);
    await t.sweep();
    expect((await t.alerts.list({ active: true })).map((a) => [a.kind, a.subject]).sort()).toEqual([['device_offline', 's-1'], ['device_offline', 's-2']]);
    await t.send('s-1', { moisture: 21 });
    expect((await t.alerts.list({ active: true })).map((a) => a.subject)).toEqual(['s-2']);
  });

  it.each([
    ['reports once every 3.5 intervals for an hour: one alert, reopened', 3.5 * MIN, 60 * MIN, 1],
    ['does so, pauses 7 h (past device_offline\'s 6 h reopen window) and does so again: two alerts', 3.5 * MIN, 60 * MIN, 2],
  ])('a device that falls silent, %s', async (_name, gapMs, spanMs, expected) => {
    const t = await setup();
    const round = async () => {
      for (let at = 0; at < spanMs; at += gapMs) {
        await t.send('s-1', { moisture: 20 + (at / gapMs) * 0.1 });
        t.clock.advance(gapMs);
        await t.sweep();
      }
    };
    await round();
    if (expected === 2) { await t.send('s-1', { moisture: 30 }); t.clock.advance(7 * 60 * MIN); await t.send('s-1', { moisture: 30.1 }); await round(); }
    const offline = await t.alerts.list({ kind: 'device_offline', subject: 's-1' });
    expect(offline).toHaveLength(expected);
    expect(offline[0]!.details).toMatchObject({ reopened: expect.any(Number) });
    expect((await t.workOrders.list()).filter((w) => w.subject === 's-1' && w.state !== 'cancelled')).toHaveLength(1);
  });

  it('keeps a gateway alert\'s top-level device list current as more devices behind it fall silent, the first list kept under `first`', async () => {
    const t = await setup({ gatewayOf: (id) => (id.startsWith('s-') ? 'gw-1' : undefined) });
    const heard: Array<[string, string]> = [];
    t.alerts.onTransition((tr) => { if (tr.alert.kind === 'gateway_offline') heard.push([tr.to, tr.alert.message]); });
    for (const id of ['gw-1', 's-1', 's-2']) await t.send(id, id === 'gw-1' ? {} : { moisture: 20 + id.length });
    t.clock.advance(MIN);
    await t.send('s-2', { moisture: 22 }); // heard a minute later (through another path): its own limit is a minute later too
    t.clock.advance(2 * MIN + 1);
    await t.sweep();
    const gateway = async () => (await t.alerts.list({ active: true })).filter((a) => a.kind === 'gateway_offline');
    expect((await gateway()).map((a) => a.details?.devices)).toEqual([['s-1']]);
    const raisedAs = '网关 gw-1 已离线 3 分钟，其后 1 台设备无数据 / gateway gw-1 offline for 3 min; 1 device behind it silent';
    expect((await gateway())[0]?.message).toBe(raisedAs);
    expect((await t.workOrders.forAlert((await gateway())[0]!.id))?.title).toBe(raisedAs);
    t.clock.advance(MIN);
    await t.sweep();
    const [alert] = await gateway();
    const now = '网关 gw-1 已离线 4 分钟，其后 2 台设备无数据 / gateway gw-1 offline for 4 min; 2 devices behind it silent';
    expect(alert?.details).toMatchObject({
      devices: ['s-1', 's-2'], silentS: 240, occurrences: 2,
      first: { devices: ['s-1'], silentS: 180 },
      latest: { devices: ['s-1', 's-2'], message: now },
    });
    // The count is a changing state: the message and the work order's title say how many are silent now, as details.devices does.
    expect(alert?.message).toBe(now);
    expect((await t.workOrders.forAlert(alert!.id))?.title).toBe(now);
    // Listeners hear it restated (the notifier's copy follows); the alert's history does not keep it.
    expect(heard).toEqual([['firing', raisedAs], ['restated', now]]);
    expect((await t.alerts.transitions(alert!.id)).map((h) => h.to)).toEqual(['firing']);
  });

  it('learns a facility baseline into the registry, flags an impact once, and keeps it until the work order closes', async () => {
    const t = await setup();
    for (let i = 0; i < 5; i++) { await t.send('t-1', { pitch: 1 + i * 0.01, roll: -0.5 }); t.clock.advance(MIN); }
    expect(t.registry.get('t-1')).toMatchObject({ baselinePitch: 1.02, baselineRoll: -0.5 });
    await t.send('t-1', { pitch: 1.02, roll: -0.5, shock: 5 });
    t.clock.advance(MIN);
    await t.send('t-1', { pitch: 1.02, roll: -0.5, shock: 5 });
    const impacts = await t.alerts.list({ kind: 'facility_impact' });
    expect(impacts).toEqual([expect.objectContaining({ subject: 'pav-1', severity: 'critical', state: 'firing', communityId: 'c-1', districtId: 'd-1' })]);
    const wo = (await t.workOrders.forAlert(impacts[0]!.id))!;
    for (let i = 0; i < 5; i++) { t.clock.advance(MIN); await t.send('t-1', { pitch: 1.02, roll: -0.5 }); }
    expect((await t.alerts.get(impacts[0]!.id))!.state).toBe('firing');
    await t.workOrders.act(wo.id, { action: 'assign', assignee: 'wang' }, 'op');
    await t.workOrders.act(wo.id, { action: 'resolve', note: 'bolts tightened' }, 'wang');
    await t.workOrders.act(wo.id, { action: 'verify' }, 'op');
    expect((await t.alerts.get(impacts[0]!.id))!.state).toBe('resolved');
  });

  it('after a restart, seeds the detectors from the active alerts so recoveries still resolve them', async () => {
    const t = await setup();
    for (const signal of [
      { kind: 'battery_low', subject: 's-1', severity: 'warning' },
      { kind: 'device_offline', subject: 's-2', severity: 'warning' },
      { kind: 'facility_tilt', subject: 'pav-1', severity: 'warning' },
    ] as const) (await t.alerts.apply({ action: 'raise', ...signal, message: 'before the restart', at: t.clock.now() }));
    t.monitor.seed((await t.alerts.allActive()));
    t.baselines.save('pav-1', { pitch: 0, roll: 0 });
    // A battery clears only once it reads well for the clear hold (3 readings, 4 report intervals).
    for (let i = 0; i < 4; i++) { await t.send('s-1', { moisture: 20 + i, battery: 90 }); t.clock.advance(MIN); }
    expect(await t.alerts.list({ active: true, kind: 'battery_low' })).toHaveLength(1);
    await t.send('s-1', { moisture: 25, battery: 90 });
    await t.send('s-2', { moisture: 21 });
    for (let i = 0; i < 3; i++) { t.clock.advance(MIN); await t.send('t-1', { pitch: 0.1 + i * 0.01, roll: 0 }); }
    expect(await t.alerts.list({ active: true })).toEqual([]);
    expect((await t.alerts.list()).map((a) => [a.kind, a.state, a.resolvedBy])).toEqual([
      ['facility_tilt', 'resolved', 'system'], ['device_offline', 'resolved', 'system'], ['battery_low', 'resolved', 'system'],
    ]);
  });
});
