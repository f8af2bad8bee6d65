import { FACILITY_TYPES, PLANT_TYPES } from '../../contracts/device.ts';
import { SOIL_TYPES } from '../../contracts/zone.ts';
import type { Random } from '../../lib/random.ts';
import { FleetSpec } from './spec.ts';

export interface GenerateOptions {
  communities: number;
  zonesPerCommunity: number;
  sensorsPerZone: number;
  /** Share of zones with a valve controller. */
  automaticShare: number;
  districts: number;
  /** Share of facilities whose footing settles slowly. */
  settlingShare: number;
  intervals?: { soilS?: number; tiltS?: number; valveS?: number };
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const pick = <T>(rng: Random, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

/**
 * A city of N communities × zones × sensors, with one tilt-monitored facility of each
 * type per community, valves in the automatic zones and a gateway per community.
 * Repeatable for a seed.
 */
export function generateFleet(o: GenerateOptions, rng: Random): FleetSpec {
  const types = FACILITY_TYPES.filter((t) => t !== 'other');
  return FleetSpec.parse({
    intervals: o.intervals ?? {},
    communities: Array.from({ length: o.communities }, (_, ci) => {
      const c = `c${pad(ci + 1, 3)}`;
      return {
        id: c,
        district: `d${pad((ci % Math.max(1, o.districts)) + 1, 2)}`,
        gateway: true,
        zones: Array.from({ length: o.zonesPerCommunity }, (_, zi) => ({
          id: `${c}-z${pad(zi + 1, 2)}`,
          plant: pick(rng, PLANT_TYPES),
          soil: pick(rng, SOIL_TYPES),
          mode: rng() < o.automaticShare ? 'automatic' : 'manual',
          areaM2: Math.round(30 + rng() * 120),
          soilSensors: o.sensorsPerZone,
        })),
        facilities: types.map((type, fi) => ({
          id: `${c}-f${pad(fi + 1, 2)}`,
          type,
          settlementDegPerDay: rng() < o.settlingShare ? Math.round((0.05 + rng() * 0.3) * 1000) / 1000 : 0,
        })),
      };
    }),
  });
}
