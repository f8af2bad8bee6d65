import type { Inventory } from '../contracts/inventory.ts';
import type { MoistureBand, ZoneConfig } from '../contracts/zone.ts';
import { SOILS, PLANT_KC } from '../firmware-sim/physics/soil.ts';
import { fleetFromInventory, zoneHydraulics } from '../firmware-sim/fleet/from-inventory.ts';
import { resolveBand, type IrrigationSettings } from '../rules/irrigation/settings.ts';
import type { FleetSpec } from '../firmware-sim/fleet/spec.ts';
import { bandProblem, DESIGN_ET0_MM_DAY } from '../contracts/zone-feasibility.ts';

export interface EvalZone {
  config: ZoneConfig;
  band: MoistureBand;
  areaM2: number;
  rootDepthMm: number;
  flowLpm: number;
  kc: number;
  /** Why no controller can keep this zone in its band, when it cannot. */
  infeasible: string | undefined;
  /** Holdable by the soil but not between two windows on a hot day (counted apart in the figures). */
  marginal: string | undefined;
}

/**
 * A band the soil can hold but no watering twice a day can keep: water above field capacity
 * drains within hours, so what stands above the low after a morning watering is at most
 * field capacity − low, and a hot day's Kc × ET0 takes more than that before the evening window.
 */
export function bandTooNarrow(band: MoistureBand, soil: ZoneConfig['soil'], kc: number, rootDepthMm: number): string | undefined {
  const room = SOILS[soil].fieldCapacity - band.low;
  const dayPoints = (kc * DESIGN_ET0_MM_DAY * 100) / rootDepthMm;
  if (room >= dayPoints) return undefined;
  return `low ${band.low} % leaves ${Math.round(room * 10) / 10} points under ${soil}'s field capacity ${SOILS[soil].fieldCapacity} %, a hot day takes ${Math.round(dayPoints * 10) / 10}: lower the low to ${Math.floor(SOILS[soil].fieldCapacity - dayPoints)} % or deepen the roots`;
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
    const h = zoneHydraulics(z);
    const config: ZoneConfig = { id: z.id, communityId: c.id, districtId: d.id, name: z.name, plant: z.plant, mode: z.mode, soil: z.soil, band: z.band, valveId: `${z.id}-v`, windows: z.windows, ...h };
    const band = resolveBand(config, settings);
    // The same judgement as the inventory import and the engine (contracts/zone-feasibility.ts).
    const infeasible = bandProblem(band, z.soil)?.message;
    zones.push({ config, band, ...h, kc: PLANT_KC[z.plant], infeasible, marginal: infeasible ? undefined : bandTooNarrow(band, z.soil, PLANT_KC[z.plant], h.rootDepthMm) });
  }
  const fleet = fleetFromInventory(inv, { automaticOnly: true, keepZone: (z) => kept.has(z.id), rainGauges: true });
  return { zones, fleet };
}
