import type { Inventory } from '../contracts/inventory.ts';
import type { MoistureBand, ZoneConfig } from '../contracts/zone.ts';
import { SOILS, PLANT_KC } from '../firmware-sim/physics/soil.ts';
import { fleetFromInventory, zoneHydraulics } from '../firmware-sim/fleet/from-inventory.ts';
import { resolveBand, type IrrigationSettings } from '../rules/irrigation/settings.ts';
import type { FleetSpec } from '../firmware-sim/fleet/spec.ts';
import { isInWindow } from '../rules/irrigation/windows.ts';
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
 * The largest share of a day's ET that falls between two of the zone's windows (ET follows a
 * half-sine over 06:00–18:00): 05–06 and 19–20 leave the whole day's ET between a morning and
 * an evening window; a midday window halves it. Scanned minute by minute over a local day.
 */
export function longestDryShare(windows: readonly string[], timezone: string): number {
  const key = `${timezone}\u0000${windows.join('\u0000')}`;
  let found = dryShares.get(key);
  if (found === undefined) dryShares.set(key, (found = scanDryShare(windows, timezone)));
  return found;
}

const dryShares = new Map<string, number>();

function scanDryShare(windows: readonly string[], timezone: string): number {
  const day = Date.parse('2026-07-01T00:00:00+08:00');
  const share = (m: number) => { const h = m / 60; return h <= 6 ? 0 : h >= 18 ? 1 : (1 - Math.cos((Math.PI * (h - 6)) / 12)) / 2; };
  let lastEnd: number | undefined;
  let first: number | undefined;
  let worst = 0;
  for (let m = 0; m < 1440; m++) {
    const inside = isInWindow(windows, day + m * 60_000, timezone);
    if (inside && lastEnd !== undefined && m - 1 === lastEnd) lastEnd = m;
    else if (inside) { if (lastEnd !== undefined) worst = Math.max(worst, share(m) - share(lastEnd)); first ??= m; lastEnd = m; }
  }
  if (first === undefined || lastEnd === undefined) return 1;
  return Math.max(worst, 1 - share(lastEnd) + share(first)); // from the last window over midnight to the first
}

/**
 * A band the soil can hold but the zone's windows cannot keep: water above field capacity
 * drains within hours, so what stands above the low after a watering is at most field
 * capacity − low, and a hot day's Kc × ET0 between two windows takes more than that.
 */
export function bandTooNarrow(band: MoistureBand, soil: ZoneConfig['soil'], kc: number, rootDepthMm: number, dryShare = 1): string | undefined {
  const room = SOILS[soil].fieldCapacity - band.low;
  const dayPoints = (kc * DESIGN_ET0_MM_DAY * dryShare * 100) / rootDepthMm;
  if (room >= dayPoints) return undefined;
  return `low ${band.low} % leaves ${Math.round(room * 10) / 10} points under ${soil}'s field capacity ${SOILS[soil].fieldCapacity} %, a hot day between two windows takes ${Math.round(dayPoints * 10) / 10}: lower the low to ${Math.floor(SOILS[soil].fieldCapacity - dayPoints)} %, deepen the roots or add a midday window`;
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
    zones.push({ config, band, ...h, kc: PLANT_KC[z.plant], infeasible, marginal: infeasible ? undefined : bandTooNarrow(band, z.soil, PLANT_KC[z.plant], h.rootDepthMm, longestDryShare(config.windows ?? settings.windows, settings.timezone)) });
  }
  const fleet = fleetFromInventory(inv, { automaticOnly: true, keepZone: (z) => kept.has(z.id), rainGauges: true });
  return { zones, fleet };
}

/** Every automatic zone of an inventory, or `n` of them spread evenly over the city (every k-th), as the evaluation and the bound choose them. */
export function spreadZones(inv: Inventory, settings: IrrigationSettings, n?: number): { zones: EvalZone[]; fleet: FleetSpec } {
  const all = evaluationZones(inv, settings, () => true).zones.length;
  const every = n && n < all ? all / n : 1;
  let next = 0;
  return evaluationZones(inv, settings, (_id, i) => {
    if (i + 1e-9 < next) return false;
    next += every;
    return true;
  });
}
