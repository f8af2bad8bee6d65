import type { Inventory } from '../contracts/inventory.ts';
import type { MoistureBand, ZoneConfig } from '../contracts/zone.ts';
import { SOILS, PLANT_KC } from '../firmware-sim/physics/soil.ts';
import { fleetFromInventory, zoneHydraulics } from '../firmware-sim/fleet/from-inventory.ts';
import { resolveBand, type IrrigationSettings } from '../rules/irrigation/settings.ts';
import type { FleetSpec } from '../firmware-sim/fleet/spec.ts';

export interface EvalZone {
  config: ZoneConfig;
  band: MoistureBand;
  areaM2: number;
  rootDepthMm: number;
  flowLpm: number;
  kc: number;
  /** Why no controller can keep this zone in its band, when it cannot. */
  infeasible: string | undefined;
}

/**
 * A band the zone's soil cannot hold: water above field capacity drains within hours
 * (sand in ~2 h, loam in ~8), so a low at or above field capacity is never held, and a
 * high above saturation is never reached.
 */
export function bandProblem(band: MoistureBand, soil: ZoneConfig['soil']): string | undefined {
  const s = SOILS[soil];
  if (band.low >= s.fieldCapacity) return `low ${band.low} % is at or above ${soil}'s field capacity ${s.fieldCapacity} %: the soil drains below it within hours`;
  if (band.high > s.saturation) return `high ${band.high} % is above ${soil}'s saturation ${s.saturation} %`;
  if (band.low <= s.wiltingPoint) return `low ${band.low} % is at or below ${soil}'s wilting point ${s.wiltingPoint} %`;
  return undefined;
}

/** The automatic zones of an inventory, as the engine and the world see them, and the fleet that simulates them. */
export function evaluationZones(inv: Inventory, settings: IrrigationSettings, keep: (zoneId: string, index: number) => boolean): { zones: EvalZone[]; fleet: FleetSpec } {
  const zones: EvalZone[] = [];
  let index = 0;
  const kept = new Set<string>();
  for (const d of inv.districts) for (const s of d.subDistricts) for (const c of s.communities) for (const z of c.zones) {
    if (z.mode !== 'automatic') continue;
    if (!keep(z.id, index++)) continue;
    kept.add(z.id);
    const config: ZoneConfig = { id: z.id, communityId: c.id, districtId: d.id, name: z.name, plant: z.plant, mode: z.mode, soil: z.soil, band: z.band, valveId: `${z.id}-v`, windows: z.windows };
    const band = resolveBand(config, settings);
    const h = zoneHydraulics(z);
    zones.push({ config, band, ...h, kc: PLANT_KC[z.plant], infeasible: bandProblem(band, z.soil) });
  }
  const fleet = fleetFromInventory(inv, { automaticOnly: true, keepZone: (z) => kept.has(z.id), rainGauges: true });
  return { zones, fleet };
}
