import { SOILS } from '../firmware-sim/physics/soil.ts';
import type { EvalZone } from './zones.ts';

export interface ZoneResult {
  zoneId: string;
  plant: string;
  soil: string;
  band: { low: number; high: number };
  /** Planted area (m²): the balance's mm over it are litres. */
  areaM2: number;
  infeasible: string | undefined;
  marginal: string | undefined;
  hours: number;
  /** True soil moisture inside the band. */
  inBandH: number;
  /** As the scorecard measures it: the median of the zone's last sensor readings inside the band (the same band: resolveBand over the run's settings, as assessment/bands.ts and the engine). */
  sensedInBandH: number;
  belowLowH: number;
  aboveHighH: number;
  /** Below the readily available water (FAO-56 p = 0.5): the plant transpires less than it could. */
  stressH: number;
  wiltingH: number;
  waterL: number;
  runs: number;
  /** Where the zone's water went (mm over its area, the season): its plants' ET, drainage below the roots, runoff. */
  etMm?: number;
  drainMm?: number;
  runoffMm?: number;
  /** Hourly true moisture (kept for the sample zones' charts). */
  trace?: number[];
}

export function createZoneMeter(zone: EvalZone, keepTrace: boolean) {
  const s = SOILS[zone.config.soil];
  const stressBelow = s.wiltingPoint + 0.5 * (s.fieldCapacity - s.wiltingPoint);
  const r: ZoneResult = {
    zoneId: zone.config.id, plant: zone.config.plant, soil: zone.config.soil, band: zone.band, areaM2: zone.areaM2, infeasible: zone.infeasible, marginal: zone.marginal,
    hours: 0, inBandH: 0, sensedInBandH: 0, belowLowH: 0, aboveHighH: 0, stressH: 0, wiltingH: 0, waterL: 0, runs: 0,
    ...(keepTrace ? { trace: [] } : {}),
  };
  const { low, high } = zone.band;
  return {
    /** One zone-hour: the true moisture, and what the sensors said last (undefined: none yet). */
    sample(moisture: number, sensed: number | undefined): void {
      r.hours++;
      if (moisture >= low && moisture <= high) r.inBandH++;
      else if (moisture < low) r.belowLowH++;
      else r.aboveHighH++;
      if (sensed !== undefined && sensed >= low && sensed <= high) r.sensedInBandH++;
      if (moisture < stressBelow) r.stressH++;
      if (moisture <= s.wiltingPoint) r.wiltingH++;
      r.trace?.push(Math.round(moisture * 10) / 10);
    },
    finish(waterL: number, runs: number, balance?: { etMm: number; drainMm: number; runoffMm: number }): ZoneResult {
      r.waterL = Math.round(waterL);
      r.runs = runs;
      if (balance) {
        r.etMm = Math.round(balance.etMm);
        r.drainMm = Math.round(balance.drainMm);
        r.runoffMm = Math.round(balance.runoffMm);
      }
      return r;
    },
  };
}

export interface Summary {
  zones: number;
  feasibleZones: number;
  /** In band over the feasible zones whose band is wide enough to hold a hot day (no marginal ones). */
  holdableZones: number;
  holdableInBandPct: number;
  inBandPct: number;
  sensedInBandPct: number;
  belowLowPct: number;
  aboveHighPct: number;
  stressPct: number;
  wiltingZoneHours: number;
  waterL: number;
  waterPerZoneL: number;
  runs: number;
  /** Zones under 95 % of their hours in band (feasible ones). */
  zonesUnder95: number;
  /**
   * Where the water went in the world (m³ over the feasible zones, irrigation and rain alike):
   * the plants' ET, drainage below the roots, runoff. Rain is the same for every controller, so
   * two controllers' difference in water is their difference in these plus in what the soil
   * holds at the end: it says whether extra water was transpired (plants not stressed) or lost.
   */
  etM3: number;
  drainM3: number;
  runoffM3: number;
}

/** Totals over the feasible zones (an infeasible band is the inventory's problem, listed apart). */
export function summarize(rows: ZoneResult[]): Summary {
  const f = rows.filter((r) => !r.infeasible);
  const sum = (k: keyof ZoneResult) => f.reduce((a, r) => a + (r[k] as number), 0);
  const hours = Math.max(1, sum('hours'));
  const pct = (n: number) => Math.round((1000 * n) / hours) / 10;
  const w = f.filter((r) => !r.marginal);
  const wHours = Math.max(1, w.reduce((a, r) => a + r.hours, 0));
  return {
    zones: rows.length,
    feasibleZones: f.length,
    holdableZones: w.length,
    holdableInBandPct: Math.round((1000 * w.reduce((a, r) => a + r.inBandH, 0)) / wHours) / 10,
    inBandPct: pct(sum('inBandH')),
    sensedInBandPct: pct(sum('sensedInBandH')),
    belowLowPct: pct(sum('belowLowH')),
    aboveHighPct: pct(sum('aboveHighH')),
    stressPct: pct(sum('stressH')),
    wiltingZoneHours: sum('wiltingH'),
    waterL: Math.round(sum('waterL')),
    waterPerZoneL: Math.round(sum('waterL') / Math.max(1, f.length)),
    runs: sum('runs'),
    zonesUnder95: f.filter((r) => r.inBandH < 0.95 * r.hours).length,
    etM3: m3(f, 'etMm'),
    drainM3: m3(f, 'drainMm'),
    runoffM3: m3(f, 'runoffMm'),
  };
}

/** A balance term summed over zones: mm over each zone's area, in m³ to 0.1. */
const m3 = (rows: ZoneResult[], k: 'etMm' | 'drainMm' | 'runoffMm'): number =>
  Math.round(rows.reduce((a, r) => a + (r[k] ?? 0) * r.areaM2, 0) / 100) / 10;
