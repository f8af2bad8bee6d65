import { createHash } from 'node:crypto';
import { z } from 'zod';
import { EntityId, FacilityType, PlantType, ZoneMode, type DeviceRegistration } from '../../contracts/device.ts';
import type { DeviceKind } from '../../contracts/reading.ts';
import { SoilType } from '../../contracts/zone.ts';

/**
 * The simulator's own small fleet description (not the operator's inventory format):
 * places plus what physics needs about them. Device ids are derived from place ids.
 */
export const FleetZone = z.strictObject({
  id: EntityId,
  plant: PlantType.default('lawn'),
  soil: SoilType.default('loam'),
  mode: ZoneMode.default('manual'),
  areaM2: z.number().positive().default(60),
  rootDepthMm: z.number().min(50).max(2000).default(300),
  soilSensors: z.number().int().min(0).max(50).default(2),
  /** Supply when the valve is open (automatic zones). */
  flowLPerMin: z.number().positive().default(12),
  initialMoisture: z.number().min(0).max(100).optional(),
});
export type FleetZone = z.infer<typeof FleetZone>;

export const FleetFacility = z.strictObject({
  id: EntityId,
  type: FacilityType,
  tiltSensors: z.number().int().min(0).max(10).default(1),
  /** Slow settlement of the footing; most facilities do not settle. */
  settlementDegPerDay: z.number().min(0).max(10).default(0),
});
export type FleetFacility = z.infer<typeof FleetFacility>;

export const FleetCommunity = z.strictObject({
  id: EntityId,
  district: EntityId,
  /** A gateway ({id}-gw) whose heartbeat and will let device health group a community's outage. */
  gateway: z.boolean().default(false),
  /** A tipping-bucket rain gauge ({id}-rain) reporting the rain since its last report. */
  rainGauge: z.boolean().default(false),
  zones: z.array(FleetZone).default([]),
  facilities: z.array(FleetFacility).default([]),
});

export const FleetSpec = z
  .strictObject({
    intervals: z.strictObject({
      soilS: z.number().int().min(10).default(900),
      tiltS: z.number().int().min(10).default(900),
      valveS: z.number().int().min(10).default(300),
      gatewayS: z.number().int().min(10).default(300),
      rainS: z.number().int().min(10).default(1800),
    }).prefault({}),
    communities: z.array(FleetCommunity).min(1),
  })
  .superRefine((fleet, ctx) => {
    const seen = new Set<string>();
    for (const c of fleet.communities) {
      for (const id of [...c.zones.map((z) => z.id), ...c.facilities.map((f) => f.id)]) {
        if (seen.has(id)) ctx.addIssue({ code: 'custom', message: `zone/facility id ${id} is used twice; device ids derive from it` });
        seen.add(id);
      }
    }
  });
export type FleetSpec = z.infer<typeof FleetSpec>;

/** One simulated device and where it sits. */
export interface SimDevice {
  id: string;
  kind: DeviceKind;
  devEui: string;
  reportIntervalS: number;
  communityId: string;
  districtId: string;
  zoneId?: string;
  facilityId?: string;
  registration: DeviceRegistration;
}

/** A stable dev EUI per device id, so LoRaWAN runs map to the same registered devices. */
export const devEuiFor = (id: string): string => createHash('sha256').update(id).digest('hex').slice(0, 16);

export function listDevices(fleet: FleetSpec): SimDevice[] {
  const out: SimDevice[] = [];
  const add = (d: Omit<SimDevice, 'devEui' | 'registration'>, place: NonNullable<DeviceRegistration['place']>) => {
    const devEui = devEuiFor(d.id);
    out.push({ ...d, devEui, registration: { id: d.id, kind: d.kind, devEui, reportIntervalS: d.reportIntervalS, place } });
  };
  for (const c of fleet.communities) {
    if (c.gateway) {
      add({ id: `${c.id}-gw`, kind: 'gateway', reportIntervalS: fleet.intervals.gatewayS, communityId: c.id, districtId: c.district }, { district: c.district, community: c.id });
    }
    if (c.rainGauge) {
      add({ id: `${c.id}-rain`, kind: 'rain', reportIntervalS: fleet.intervals.rainS, communityId: c.id, districtId: c.district }, { district: c.district, community: c.id });
    }
    for (const z of c.zones) {
      const place = { district: c.district, community: c.id, zone: z.id, plant: z.plant, mode: z.mode };
      for (let i = 1; i <= z.soilSensors; i++) {
        add({ id: `${z.id}-s${i}`, kind: 'soil', reportIntervalS: fleet.intervals.soilS, communityId: c.id, districtId: c.district, zoneId: z.id }, place);
      }
      if (z.mode === 'automatic') {
        add({ id: `${z.id}-v`, kind: 'valve', reportIntervalS: fleet.intervals.valveS, communityId: c.id, districtId: c.district, zoneId: z.id }, place);
      }
    }
    for (const f of c.facilities) {
      const place = { district: c.district, community: c.id, facility: f.id, facilityType: f.type };
      for (let i = 1; i <= f.tiltSensors; i++) {
        add({ id: `${f.id}-t${i}`, kind: 'tilt', reportIntervalS: fleet.intervals.tiltS, communityId: c.id, districtId: c.district, facilityId: f.id }, place);
      }
    }
  }
  return out;
}
