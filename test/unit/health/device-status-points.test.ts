import { describe, expect, it } from 'vitest';
import type { DeviceInfo } from '../../../contracts/device.ts';
import { deviceStatusLines } from '../../../health/device-status-points.ts';

const device = (id: string, extra: Partial<DeviceInfo> = {}): DeviceInfo => ({
  id, kind: 'soil', devEui: undefined, reportIntervalS: 900, disabled: false, districtId: 'd1', communityId: 'c1', zoneId: 'z1',
  plant: 'lawn', facilityId: undefined, facilityType: undefined, baselinePitch: undefined, baselineRoll: undefined, ...extra,
});

describe('device_status points', () => {
  it('gives every enabled device its online flag, silence and last battery', () => {
    const now = 1_800_000_000_000;
    const lines = deviceStatusLines(
      [device('a'), device('b', { kind: 'valve' }), device('never'), device('off', { disabled: true })],
      { isOffline: (id) => id === 'b', lastSeen: (id) => ({ a: now - 60_400, b: now - 7_200_000 } as Record<string, number>)[id], battery: (id) => (id === 'a' ? 87 : undefined) },
      now,
    );
    expect(lines).toEqual([
      `device_status,community=c1,device=a,district=d1,kind=soil online=1,last_seen_s=60,battery=87 ${now}`,
      `device_status,community=c1,device=b,district=d1,kind=valve online=0,last_seen_s=7200 ${now}`,
      `device_status,community=c1,device=never,district=d1,kind=soil online=1 ${now}`,
    ]);
  });
});
