import { describe, expect, it } from 'vitest';
import { initialOfflineState, markOnline, sweepOffline, type OfflineState, type SweepDevice } from '../../../../rules/device-health/offline.ts';

const T0 = Date.UTC(2026, 5, 1);
const S = 1000;
const dev = (id: string, kind = 'soil', reportIntervalS = 600): SweepDevice => ({ id, kind, reportIntervalS, disabled: false, communityId: 'c-1', districtId: 'd-1' });

function sweep(state: OfflineState, devices: SweepDevice[], lastSeen: Record<string, number>, now: number, gateway: Record<string, string> = {}) {
  return sweepOffline(state, { devices, lastSeen: (id) => lastSeen[id], gatewayOf: (id) => gateway[id], now, since: T0, offlineAfterIntervals: 3 });
}
const brief = (r: ReturnType<typeof sweep>) => r.signals.map((s) => [s.action, s.kind, s.subject]);

describe('offline timing', () => {
  it.each([
    ['exactly k × interval silent', 1800 * S, []],
    ['one ms past k × interval', 1800 * S + 1, [['raise', 'device_offline', 's-1']]],
  ])('%s → %j', (_name, silentMs, expected) => {
    expect(brief(sweep(initialOfflineState(), [dev('s-1')], { 's-1': T0 }, T0 + silentMs))).toEqual(expected);
  });

  it('counts a never-seen device from the start of monitoring', () => {
    expect(brief(sweep(initialOfflineState(), [dev('s-1')], {}, T0 + 1799 * S))).toEqual([]);
    expect(brief(sweep(initialOfflineState(), [dev('s-1')], {}, T0 + 1801 * S))).toEqual([['raise', 'device_offline', 's-1']]);
  });

  it('raises once, clears on the next reading, and ignores disabled devices', () => {
    const devices = [dev('s-1'), { ...dev('s-2'), disabled: true }];
    const first = sweep(initialOfflineState(), devices, { 's-1': T0 }, T0 + 2000 * S);
    expect(brief(first)).toEqual([['raise', 'device_offline', 's-1']]);
    expect(brief(sweep(first.state, devices, { 's-1': T0 }, T0 + 3000 * S))).toEqual([]);
    const back = markOnline(first.state, 's-1', T0 + 3001 * S);
    expect(back.signals).toEqual([expect.objectContaining({ action: 'clear', kind: 'device_offline', subject: 's-1', reason: '设备恢复上报 / device reporting again' })]);
    expect(brief(sweep(back.state, devices, { 's-1': T0 + 3001 * S }, T0 + 3100 * S))).toEqual([]);
  });

  it('uses each device its own interval', () => {
    const devices = [dev('fast', 'soil', 60), dev('slow', 'tilt', 3600)];
    expect(brief(sweep(initialOfflineState(), devices, { fast: T0, slow: T0 }, T0 + 600 * S))).toEqual([['raise', 'device_offline', 'fast']]);
  });
});

describe('gateway grouping', () => {
  const devices = [dev('gw-1', 'gateway', 300), dev('s-1'), dev('s-2'), dev('s-3'), dev('s-9')];
  const gateway = { 's-1': 'gw-1', 's-2': 'gw-1', 's-3': 'gw-1', 's-9': 'gw-2' };

  it('one gateway alert lists the silent devices behind it; no alert per device', () => {
    const seen = { 'gw-1': T0, 's-1': T0, 's-2': T0, 's-3': T0 + 5000 * S, 's-9': T0 };
    const r = sweep(initialOfflineState(), devices, seen, T0 + 2000 * S, gateway);
    expect(brief(r)).toEqual([['raise', 'gateway_offline', 'gw-1'], ['raise', 'device_offline', 's-9']]);
    expect(r.signals[0]).toMatchObject({ severity: 'critical', details: { devices: ['s-1', 's-2'] } });
    expect(r.signals[0]).toMatchObject({ message: '网关 gw-1 已离线 33 分钟，其后 2 台设备无数据 / gateway gw-1 offline for 33 min; 2 devices behind it silent' });
    expect(r.signals[1]).toMatchObject({ message: '土壤传感器 s-9 已 33 分钟无数据（应每 10 分钟上报） / device s-9 silent for 33 min (expected every 10 min)' });
  });

  it('updates the gateway alert as more devices fall silent, clears it when the gateway is back, then alerts for devices still silent a full threshold after', () => {
    const first = sweep(initialOfflineState(), devices, { 'gw-1': T0, 's-1': T0, 's-2': T0 + 1000 * S, 's-3': T0 + 9000 * S, 's-9': T0 + 9000 * S }, T0 + 2000 * S, gateway);
    expect(first.signals[0]).toMatchObject({ details: { devices: ['s-1'] }, message: '网关 gw-1 已离线 33 分钟，其后 1 台设备无数据 / gateway gw-1 offline for 33 min; 1 device behind it silent' });
    const second = sweep(first.state, devices, { 'gw-1': T0, 's-1': T0, 's-2': T0 + 1000 * S, 's-3': T0 + 9000 * S, 's-9': T0 + 9000 * S }, T0 + 3000 * S, gateway);
    expect(brief(second)).toEqual([['raise', 'gateway_offline', 'gw-1']]);
    expect(second.signals[0]).toMatchObject({ details: { devices: ['s-1', 's-2'] }, message: '网关 gw-1 已离线 50 分钟，其后 2 台设备无数据 / gateway gw-1 offline for 50 min; 2 devices behind it silent' });
    expect(brief(sweep(second.state, devices, { 'gw-1': T0, 's-1': T0, 's-2': T0 + 1000 * S, 's-3': T0 + 9000 * S, 's-9': T0 + 9000 * S }, T0 + 3060 * S, gateway))).toEqual([]);
    const back = markOnline(second.state, 'gw-1', T0 + 3100 * S);
    expect(back.signals).toEqual([expect.objectContaining({ action: 'clear', kind: 'gateway_offline', subject: 'gw-1', reason: '网关恢复上报 / gateway reporting again' })]);
    const seenAfter = { 'gw-1': T0 + 4800 * S, 's-1': T0, 's-2': T0 + 1000 * S, 's-3': T0 + 9000 * S, 's-9': T0 + 9000 * S };
    // Its devices could not be heard while it was down: each gets its own threshold (3 × 600 s) from the gateway's return.
    const soon = sweep(back.state, devices, seenAfter, T0 + 3160 * S, gateway);
    expect(brief(soon)).toEqual([]);
    const atThreshold = sweep(soon.state, devices, seenAfter, T0 + 4900 * S, gateway);
    expect(brief(atThreshold)).toEqual([]);
    const after = sweep(atThreshold.state, devices, seenAfter, T0 + 4901 * S, gateway);
    expect(brief(after)).toEqual([['raise', 'device_offline', 's-1'], ['raise', 'device_offline', 's-2']]);
    // Counted from when s-1 was last heard (T0: 4901 s ago), not from the gateway's return (30 min ago).
    expect(after.signals[0]).toMatchObject({ message: '土壤传感器 s-1 已 1 小时 21 分钟无数据（应每 10 分钟上报） / device s-1 silent for 1 h 21 min (expected every 10 min)' });
  });

  it('a gateway that came back in a sweep (not by its own reading) excuses its devices the same way, and the excuse is dropped once spent', () => {
    const seen = { 'gw-1': T0, 's-1': T0, 's-2': T0, 's-3': T0 + 9000 * S, 's-9': T0 + 9000 * S };
    const down = sweep(initialOfflineState(), devices, seen, T0 + 2000 * S, gateway);
    expect(brief(down)).toEqual([['raise', 'gateway_offline', 'gw-1']]);
    const gwBack = { ...seen, 'gw-1': T0 + 2500 * S };
    const back = sweep(down.state, devices, gwBack, T0 + 2560 * S, gateway);
    expect(brief(back)).toEqual([['clear', 'gateway_offline', 'gw-1']]);
    expect(back.signals[0]).toMatchObject({ reason: '网关恢复上报 / gateway reporting again' });
    expect(back.state.gatewaysBack.get('gw-1')).toBe(T0 + 2560 * S);
    const spent = sweep(back.state, devices, { ...gwBack, 'gw-1': T0 + 4400 * S, 's-1': T0 + 4400 * S, 's-2': T0 + 4400 * S }, T0 + 4400 * S, gateway);
    expect(brief(spent)).toEqual([]);
    expect(spent.state.gatewaysBack.has('gw-1')).toBe(false);
  });

  it('a device already alerted alone keeps its alert when its gateway then fails (it was already sent)', () => {
    const seen = { 'gw-1': T0 + 1500 * S, 's-1': T0, 's-2': T0 + 9000 * S, 's-3': T0 + 9000 * S, 's-9': T0 + 9000 * S };
    const first = sweep(initialOfflineState(), devices, seen, T0 + 2000 * S, gateway);
    expect(brief(first)).toEqual([['raise', 'device_offline', 's-1']]);
    const later = sweep(first.state, devices, seen, T0 + 3000 * S, gateway);
    expect(brief(later)).toEqual([['raise', 'gateway_offline', 'gw-1']]);
    expect(later.state.devices.has('s-1')).toBe(true);
  });

  it('a device alerted alone before its gateway failed is not excused when the gateway returns: no false "reporting again", no second alert', () => {
    const seen = { 'gw-1': T0 + 1500 * S, 's-1': T0, 's-2': T0 + 9000 * S, 's-3': T0 + 9000 * S, 's-9': T0 + 9000 * S };
    const first = sweep(initialOfflineState(), devices, seen, T0 + 2000 * S, gateway);
    const gwDown = sweep(first.state, devices, seen, T0 + 3500 * S, gateway);
    expect(brief(gwDown)).toEqual([['raise', 'gateway_offline', 'gw-1']]);
    const back = markOnline(gwDown.state, 'gw-1', T0 + 3600 * S);
    const seenBack = { ...seen, 'gw-1': T0 + 3600 * S };
    // s-1 was silent long before the gateway went down: its silence is its own, and its alert stands.
    const soon = sweep(back.state, devices, seenBack, T0 + 3660 * S, gateway);
    expect(brief(soon)).toEqual([]);
    expect(soon.state.devices.has('s-1')).toBe(true);
    expect(brief(sweep(soon.state, devices, { ...seenBack, 'gw-1': T0 + 5500 * S }, T0 + 5500 * S, gateway))).toEqual([]);
  });
});
