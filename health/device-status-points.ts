import type { DeviceInfo } from '../contracts/device.ts';
import { MEASUREMENTS } from '../contracts/influx-schema.ts';
import { toLine } from '../influx/line-protocol.ts';

export interface DeviceStatusInputs {
  isOffline: (deviceId: string) => boolean;
  lastSeen: (deviceId: string) => number | undefined;
  battery: (deviceId: string) => number | undefined;
}

/**
 * One `device_status` point per enabled device at `now`: online 1/0 as the offline rules
 * judge it, seconds since its last reading, its last battery level. Written by each
 * offline sweep, so "devices online %" and "last seen" are one InfluxQL query away.
 */
export function deviceStatusLines(devices: readonly DeviceInfo[], inputs: DeviceStatusInputs, now: number): string[] {
  const lines: string[] = [];
  for (const d of devices) {
    if (d.disabled) continue;
    const seen = inputs.lastSeen(d.id);
    lines.push(toLine(MEASUREMENTS.device_status.name, { district: d.districtId, community: d.communityId, device: d.id, kind: d.kind }, {
      online: inputs.isOffline(d.id) ? 0 : 1,
      last_seen_s: seen === undefined ? undefined : Math.max(0, Math.round((now - seen) / 1000)),
      battery: inputs.battery(d.id),
    }, now));
  }
  return lines;
}
