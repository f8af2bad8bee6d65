import type { InventoryInput } from '../../../contracts/inventory.ts';
import { FleetSpec, devEuiFor, listDevices } from '../../../firmware-sim/fleet/spec.ts';
import type { MisbehaviourChoice } from '../../../firmware-sim/world.ts';

/**
 * The small city of the simulated day. Three communities in two districts:
 * - c1: a dry lawn (shallow loam) and a dry sand shrub bed, both with valves; a dry clay
 *   hedge watered by hand; a bench (hit at 20:00) and a pavilion; a rain gauge.
 * - c2: a dry lawn whose band (20–23 %) a morning run can reach; a moist manual bed; a trellis.
 * - c3: a moist lawn with a valve that must stay shut; a manual tree bed with one faulty
 *   probe (malformed payloads); fitness equipment whose sensor's clock is 8 h ahead (every
 *   reading refused) and a bench whose clock is an hour behind (accepted, flagged); a rain
 *   gauge; its gateway link fails 09:00–11:00.
 * Bands: plant defaults shifted by soil (rules/irrigation/settings.ts), lawn/loam 20–30,
 * shrubs/sand 8–18, hedge/clay 26–36.
 */
export const FLEET = FleetSpec.parse({
  intervals: { soilS: 600, tiltS: 900, valveS: 300, gatewayS: 300, rainS: 1800 },
  communities: [
    {
      id: 'c1', district: 'd1', gateway: true, rainGauge: true,
      zones: [
        // 30 L/min over 40 m² is 45 mm/h; loam takes 13 mm/h, into 150 mm of roots: ~+8.7 % VWC an hour.
        { id: 'c1-lawn', plant: 'lawn', soil: 'loam', mode: 'automatic', areaM2: 40, rootDepthMm: 150, flowLPerMin: 30, soilSensors: 2, initialMoisture: 15 },
        { id: 'c1-shrubs', plant: 'shrubs', soil: 'sand', mode: 'automatic', areaM2: 40, flowLPerMin: 20, soilSensors: 2, initialMoisture: 6 },
        { id: 'c1-hedge', plant: 'hedge', soil: 'clay', mode: 'manual', soilSensors: 2, initialMoisture: 20 },
      ],
      facilities: [{ id: 'c1-bench', type: 'bench' }, { id: 'c1-pavilion', type: 'pavilion' }],
    },
    {
      id: 'c2', district: 'd1', gateway: true,
      zones: [
        { id: 'c2-lawn', plant: 'lawn', soil: 'loam', mode: 'automatic', areaM2: 30, rootDepthMm: 60, flowLPerMin: 40, soilSensors: 2, initialMoisture: 17 },
        { id: 'c2-ground', plant: 'ground_cover', soil: 'loam', mode: 'manual', soilSensors: 1, initialMoisture: 26 },
      ],
      facilities: [{ id: 'c2-trellis', type: 'trellis_rope' }],
    },
    {
      id: 'c3', district: 'd2', gateway: true, rainGauge: true,
      zones: [
        { id: 'c3-lawn', plant: 'lawn', soil: 'loam', mode: 'automatic', soilSensors: 2, initialMoisture: 27 },
        { id: 'c3-trees', plant: 'trees', soil: 'loam', mode: 'manual', soilSensors: 2, initialMoisture: 22 },
      ],
      facilities: [{ id: 'c3-fitness', type: 'fitness_equipment' }, { id: 'c3-bench', type: 'bench' }],
    },
  ],
});

export const DEVICES = listDevices(FLEET);

/** Chosen faults, so the rejects-by-reason and clock-skew panels are fed by the run itself. */
export const MISBEHAVING: Record<string, MisbehaviourChoice> = {
  'c3-trees-s2': { mode: 'malformed' },
  'c3-fitness-t1': { mode: 'clock_skew', skewMs: 8 * 3_600_000 },
  'c3-bench-t1': { mode: 'clock_skew', skewMs: -3_600_000 },
};

/** Zone bands the inventory sets (others use the plant type's default band). */
const BANDS: Record<string, { low: number; high: number }> = { 'c2-lawn': { low: 20, high: 23 } };

/** The same city as the operator's inventory file, imported through the API. */
export function inventoryOf(fleet: FleetSpec): InventoryInput {
  const devices = listDevices(fleet);
  const districts = [...new Set(fleet.communities.map((c) => c.district))];
  return {
    version: 1,
    districts: districts.map((d) => ({
      id: d,
      name: `district ${d}`,
      subDistricts: [{
        id: `${d}-sd1`,
        name: `sub-district ${d}-1`,
        communities: fleet.communities.filter((c) => c.district === d).map((c) => {
          const gateway = c.gateway ? `${c.id}-gw` : undefined;
          return {
            id: c.id,
            name: `community ${c.id}`,
            zones: c.zones.map((z) => ({
              id: z.id, name: `zone ${z.id}`, plant: z.plant, mode: z.mode, soil: z.soil,
              ...(z.mode === 'automatic' ? { valve: `${z.id}-v` } : {}),
              ...(BANDS[z.id] ? { band: BANDS[z.id] } : {}),
            })),
            facilities: c.facilities.map((f) => ({ id: f.id, name: `facility ${f.id}`, type: f.type, location: { description: `${c.id} courtyard` } })),
            devices: devices.filter((dev) => dev.communityId === c.id).map((dev) => ({
              id: dev.id, kind: dev.kind, devEui: devEuiFor(dev.id), reportIntervalS: dev.reportIntervalS,
              ...(dev.zoneId ? { zone: dev.zoneId } : {}),
              ...(dev.facilityId ? { facility: dev.facilityId } : {}),
              ...(gateway && dev.kind !== 'gateway' ? { gateway } : {}),
            })),
          };
        }),
      }],
    })),
  };
}
