import type { AlertSignal } from '../../contracts/alert.ts';
import { deviceCleared, deviceOfflineMessage, gatewayOfflineMessage } from './messages.ts';

export interface SweepDevice {
  id: string;
  kind: string;
  reportIntervalS: number;
  disabled: boolean;
  communityId: string | undefined;
  districtId: string | undefined;
}

/**
 * Which devices and gateways are alerted offline now (gateway → the devices grouped under it),
 * and when each gateway that was offline came back: the devices behind it count their silence
 * from then, since they could not have been heard while it was down (without this, the sweep
 * right after a gateway returns raised device_offline for every device behind it that had not
 * yet had its next report due).
 */
export interface OfflineState {
  devices: ReadonlySet<string>;
  gateways: ReadonlyMap<string, readonly string[]>;
  gatewaysBack: ReadonlyMap<string, number>;
}

export const initialOfflineState = (): OfflineState => ({ devices: new Set(), gateways: new Map(), gatewaysBack: new Map() });

export interface SweepInput {
  devices: readonly SweepDevice[];
  lastSeen: (id: string) => number | undefined;
  /** The gateway a device reports through (the inventory's `gateway_id`), if any. */
  gatewayOf: (id: string) => string | undefined;
  now: number;
  /** When monitoring started: a device never heard from counts from here, not from 1970. */
  since: number;
  offlineAfterIntervals: number;
}

/**
 * The offline sweep: a device is offline when nothing arrived for reportIntervalS × k.
 * When a gateway is offline, the offline devices behind it are grouped into the gateway's
 * alert (its details list them) instead of raising one alert each: one notification for
 * one cause. Signals are only emitted on change, so a city-sized sweep stays cheap.
 */
export function sweepOffline(state: OfflineState, input: SweepInput): { state: OfflineState; signals: AlertSignal[] } {
  const { now } = input;
  const silentTooLong = (d: SweepDevice, since: number): boolean => now - since > d.reportIntervalS * input.offlineAfterIntervals * 1000;
  const downGateways = new Map(input.devices.filter((d) => d.kind === 'gateway' && !d.disabled && silentTooLong(d, input.lastSeen(d.id) ?? input.since)).map((g) => [g.id, g]));
  const backAt = (gateway: string): number => state.gatewaysBack.get(gateway) ?? (state.gateways.has(gateway) && !downGateways.has(gateway) ? now : -Infinity);
  // A device already alerted alone was silent before its gateway failed: its silence is its
  // own, so the gateway's return does not excuse it (else its alert would clear as "reporting
  // again" without a reading, and be raised a second time once the excuse ran out).
  const heardOrExcused = (d: SweepDevice): number => {
    const heard = input.lastSeen(d.id) ?? input.since;
    const gateway = state.devices.has(d.id) ? undefined : input.gatewayOf(d.id);
    return Math.max(heard, gateway ? backAt(gateway) : -Infinity);
  };
  const down = input.devices.filter((d) => !d.disabled && (d.kind === 'gateway' ? downGateways.has(d.id) : silentTooLong(d, heardOrExcused(d))));
  const groups = new Map<string, string[]>([...downGateways.keys()].map((id) => [id, []]));
  const individual: SweepDevice[] = [];
  for (const d of down) {
    if (d.kind === 'gateway') continue;
    const gw = input.gatewayOf(d.id);
    const group = gw ? groups.get(gw) : undefined;
    if (group) group.push(d.id);
    else individual.push(d);
  }

  const signals: AlertSignal[] = [];
  const ago = (d: SweepDevice): number => Math.round((now - (input.lastSeen(d.id) ?? input.since)) / 1000);
  const gateways = new Map<string, readonly string[]>();
  for (const [id, g] of downGateways) {
    const members = (groups.get(id) ?? []).sort();
    gateways.set(id, members);
    const before = state.gateways.get(id);
    if (!before || before.join() !== members.join()) {
      signals.push({
        action: 'raise', kind: 'gateway_offline', subject: id, severity: 'critical', communityId: g.communityId, districtId: g.districtId, at: now,
        message: gatewayOfflineMessage(id, ago(g) * 1000, members.length),
        details: { silentS: ago(g), devices: members },
      });
    }
  }
  const gatewaysBack = new Map(state.gatewaysBack);
  for (const id of state.gateways.keys()) {
    if (gateways.has(id)) continue;
    signals.push({ action: 'clear', kind: 'gateway_offline', subject: id, at: now, reason: deviceCleared.gatewayBack });
    gatewaysBack.set(id, now);
  }
  // A return stops excusing once every device's own threshold has passed since.
  if (gatewaysBack.size > 0) {
    const longest = input.devices.reduce((m, d) => Math.max(m, d.reportIntervalS), 0) * input.offlineAfterIntervals * 1000;
    for (const [id, at] of gatewaysBack) if (now - at > longest || gateways.has(id)) gatewaysBack.delete(id);
  }

  const devices = new Set<string>();
  const downIds = new Set(down.map((d) => d.id));
  for (const d of individual) {
    devices.add(d.id);
    if (!state.devices.has(d.id)) {
      signals.push({
        action: 'raise', kind: 'device_offline', subject: d.id, severity: 'warning', communityId: d.communityId, districtId: d.districtId, at: now,
        message: deviceOfflineMessage(d.kind, d.id, ago(d) * 1000, d.reportIntervalS), details: { silentS: ago(d), reportIntervalS: d.reportIntervalS },
      });
    }
  }
  for (const id of state.devices) {
    // Already alerted alone and now grouped under a gateway: keep its alert, it was sent.
    if (downIds.has(id)) devices.add(id);
    else signals.push({ action: 'clear', kind: 'device_offline', subject: id, at: now, reason: deviceCleared.deviceBack });
  }
  return { state: { devices, gateways, gatewaysBack }, signals };
}

/** A reading arrived: the device (and nothing else) is back; clear its alert at once. */
export function markOnline(state: OfflineState, deviceId: string, at: number): { state: OfflineState; signals: AlertSignal[] } {
  if (state.devices.has(deviceId)) {
    const devices = new Set(state.devices);
    devices.delete(deviceId);
    return { state: { ...state, devices }, signals: [{ action: 'clear', kind: 'device_offline', subject: deviceId, at, reason: deviceCleared.deviceBack }] };
  }
  if (state.gateways.has(deviceId)) {
    const gateways = new Map(state.gateways);
    gateways.delete(deviceId);
    const gatewaysBack = new Map(state.gatewaysBack).set(deviceId, at);
    return { state: { ...state, gateways, gatewaysBack }, signals: [{ action: 'clear', kind: 'gateway_offline', subject: deviceId, at, reason: deviceCleared.gatewayBack }] };
  }
  return { state, signals: [] };
}
