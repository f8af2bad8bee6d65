import type { AcceptedReading } from '../contracts/reading.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import { MEASUREMENT_BY_KIND } from '../contracts/influx-schema.ts';
import { toLine, type FieldValue } from '../influx/line-protocol.ts';

/** Derived tilt values: angle from the facility's baseline and change since the previous reading. */
export interface TiltDerived {
  tilt: number;
  delta: number | undefined;
}

export function deriveTilt(pitch: number, roll: number, device: DeviceInfo, previous: { pitch: number; roll: number } | undefined): TiltDerived {
  const dp = pitch - (device.baselinePitch ?? 0);
  const dr = roll - (device.baselineRoll ?? 0);
  return {
    tilt: round3(Math.hypot(dp, dr)),
    delta: previous ? round3(Math.hypot(pitch - previous.pitch, roll - previous.roll)) : undefined,
  };
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** The line-protocol point for an accepted reading, tagged from the registry. */
export function toPoint(reading: AcceptedReading, device: DeviceInfo, tilt?: TiltDerived): string | undefined {
  const measurement = MEASUREMENT_BY_KIND[device.kind];
  if (!measurement) return undefined;
  const f = reading.fields;
  const common = { battery: f.battery, rssi: f.rssi, snr: f.snr };
  let fields: Record<string, FieldValue | undefined>;
  let tags: Record<string, string | undefined>;
  switch (measurement) {
    case 'soil':
      tags = { district: device.districtId, community: device.communityId, zone: device.zoneId, device: device.id, plant: device.plant };
      fields = { moisture: f.moisture, temperature: f.temperature, ec: f.ec, ...common };
      break;
    case 'tilt':
      tags = { district: device.districtId, community: device.communityId, facility: device.facilityId, facility_type: device.facilityType, device: device.id };
      fields = { pitch: f.pitch, roll: f.roll, tilt: tilt?.tilt, delta: tilt?.delta, shock: f.shock, ...common };
      break;
    case 'valve':
      tags = { district: device.districtId, community: device.communityId, zone: device.zoneId, device: device.id };
      fields = { state: f.state, flow: f.flow, volume: f.volume, ...common };
      break;
    case 'rain':
      tags = { district: device.districtId, community: device.communityId, device: device.id };
      fields = { rainfall: f.rainfall, ...common };
      break;
  }
  return toLine(measurement, tags, fields, reading.ts);
}
