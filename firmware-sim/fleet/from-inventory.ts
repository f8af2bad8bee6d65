import type { Inventory, InventoryZone } from '../../contracts/inventory.ts';
import { DEFAULT_ZONE_HYDRAULICS } from '../../contracts/zone.ts';
import { FleetSpec, type FleetZone } from './spec.ts';

export interface FromInventoryOptions {
  /** Only automatic zones (the evaluation); default every zone. */
  automaticOnly?: boolean;
  /** Keep a zone only when this says so (a subset for a quick run). */
  keepZone?: (zone: InventoryZone) => boolean;
  soilSensors?: number;
  /** A tipping-bucket gauge per community, so rain reaches the irrigation rules as it does in the field. */
  rainGauges?: boolean;
  facilities?: boolean;
}

/** The hydraulics of an inventory zone: its own fields where given, else its plant type's defaults. */
export const zoneHydraulics = (z: Pick<InventoryZone, 'plant'> & { areaM2?: number; rootDepthMm?: number; flowLpm?: number }) => {
  const d = DEFAULT_ZONE_HYDRAULICS[z.plant];
  return { areaM2: z.areaM2 ?? d.areaM2, rootDepthMm: z.rootDepthMm ?? d.rootDepthMm, flowLpm: z.flowLpm ?? d.flowLpm };
};

/**
 * The simulator's fleet for an inventory: one world. Every zone, its soil and plant, its
 * valve (`{zone}-v`, as the inventory's generated city names them) and soil sensors come
 * from the inventory, so `npm run sim`, the evaluation and the app describe the same zones.
 */
export function fleetFromInventory(inv: Inventory, o: FromInventoryOptions = {}): FleetSpec {
  const communities = inv.districts.flatMap((d) => d.subDistricts.flatMap((s) => s.communities.map((c) => ({ c, district: d.id }))));
  return FleetSpec.parse({
    communities: communities.flatMap(({ c, district }) => {
      const zones: FleetZone[] = c.zones
        .filter((z) => (!o.automaticOnly || z.mode === 'automatic') && (o.keepZone?.(z) ?? true))
        .map((z) => {
          const h = zoneHydraulics(z);
          return { id: z.id, plant: z.plant, soil: z.soil, mode: z.mode, areaM2: h.areaM2, rootDepthMm: h.rootDepthMm, flowLPerMin: h.flowLpm, soilSensors: o.soilSensors ?? 2 };
        });
      if (zones.length === 0) return [];
      const facilities = o.facilities ? c.facilities.map((f) => ({ id: f.id, type: f.type })) : [];
      return [{ id: c.id, district, rainGauge: o.rainGauges ?? false, zones, facilities }];
    }),
  });
}
