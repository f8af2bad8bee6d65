import type { Inventory } from '../contracts/inventory.ts';
import { DEFAULT_MAX_RUN_S, DEFAULT_WATERING_WINDOWS, DEFAULT_ZONE_HYDRAULICS } from '../contracts/zone.ts';
import { bandProblem, flowShortfall } from '../contracts/zone-feasibility.ts';
import { wateringMinutesPerDay } from '../lib/window-minutes.ts';
import type { CrossRefProblem } from './check.ts';
import type { Path } from './problems.ts';

/**
 * Whether each zone can be watered as the file describes it (contracts/zone-feasibility.ts,
 * the same judgement the irrigation engine makes at run time):
 * - refused: a band the zone's soil cannot hold (low at or above field capacity, at or below
 *   the wilting point; high above saturation), pointing at the band's wrong end;
 * - warned: an automatic zone whose valve cannot give a hot day's water inside its windows
 *   (the zone's own, else the built-in defaults) and the longest run after each (the built-in
 *   default; a deployment configured otherwise is judged again by the engine at run time).
 * Only a band the file gives is judged: the plant types' defaults shifted for the soil are all
 * holdable (contracts/zone.ts).
 */
export function checkFeasibility(inv: Inventory): { refusals: CrossRefProblem[]; warnings: CrossRefProblem[] } {
  const refusals: CrossRefProblem[] = [];
  const warnings: CrossRefProblem[] = [];
  inv.districts.forEach((d, di) => d.subDistricts.forEach((s, si) => s.communities.forEach((c, ci) => c.zones.forEach((z, zi) => {
    const zp: Path = ['districts', di, 'subDistricts', si, 'communities', ci, 'zones', zi];
    const band = z.band && bandProblem(z.band, z.soil);
    if (band) refusals.push({ path: [...zp, 'band', band.field], message: band.message });
    if (z.mode !== 'automatic') return;
    const defaults = DEFAULT_ZONE_HYDRAULICS[z.plant];
    const windows = z.windows && z.windows.length > 0 ? z.windows : DEFAULT_WATERING_WINDOWS;
    const short = flowShortfall({ plant: z.plant, areaM2: z.areaM2 ?? defaults.areaM2, flowLpm: z.flowLpm ?? defaults.flowLpm, wateringMinutesPerDay: wateringMinutesPerDay(windows, DEFAULT_MAX_RUN_S / 60) });
    if (short) warnings.push({ path: z.flowLpm !== undefined ? [...zp, 'flowLpm'] : zp, message: short });
  }))));
  return { refusals, warnings };
}
