import { z } from 'zod';
import type { MoistureBand, ZoneConfig } from '../../contracts/zone.ts';
import { IrrigationSettings, resolveBand, usesBandTable } from './settings.ts';

/**
 * Where an effective value comes from, most specific last: the built-in default, the
 * deployment's irrigation settings (config), the FAO-56 band of the zone's plant on its soil
 * (fao56: the default band), the deployment's plant-type band table shifted for the soil,
 * the zone's own value in the inventory, an operator's override for this zone (PUT).
 */
export const SettingSource = z.enum(['default', 'deployment', 'fao56', 'plant_type', 'inventory', 'zone_override']);
export type SettingSource = z.infer<typeof SettingSource>;

/** `detail`: what the source means for this zone, in words ("FAO-56 for lawn on sand"). */
export const EffectiveValue = z.object({ value: z.unknown(), source: SettingSource, detail: z.string().optional() });
export type EffectiveValue = z.infer<typeof EffectiveValue>;

export interface SettingLayers {
  /** The zone as the inventory describes it (no override applied). */
  zone: Pick<ZoneConfig, 'plant' | 'soil' | 'band' | 'windows'>;
  /** The deployment's settings over the built-in defaults (config). */
  deployment: Partial<IrrigationSettings>;
  /** An operator's override for this zone, if any. */
  override: { band?: MoistureBand | undefined; windows?: string[] | undefined; settings?: Partial<IrrigationSettings> | undefined } | undefined;
}

/** Per-plant and per-soil tables: the zone's band stands for them. */
const TABLES = new Set(['bands', 'soilOffset', 'windows']);
const nonEmpty = (w: readonly string[] | undefined): w is string[] => w !== undefined && w.length > 0;

/**
 * One effective view of a zone's irrigation settings, each value with its source. It
 * follows exactly the precedence the engine decides with (irrigation/engine.ts contextOf,
 * rules/irrigation/inputs.ts): override over inventory over deployment over default, and an
 * empty window list falls through to the next layer.
 */
export function explainSettings(layers: SettingLayers): Record<string, EffectiveValue> {
  const { zone, deployment, override } = layers;
  const settings = IrrigationSettings.parse({ ...deployment, ...override?.settings });
  const out: Record<string, EffectiveValue> = {};

  out.band = override?.band ? { value: override.band, source: 'zone_override' }
    : zone.band ? { value: zone.band, source: 'inventory' }
    : usesBandTable(settings) ? { value: resolveBand(zone, settings), source: 'plant_type' }
    : { value: resolveBand(zone, settings), source: 'fao56', detail: `FAO-56 for ${zone.plant} on ${zone.soil}` };
  out.windows = nonEmpty(override?.windows) ? { value: override.windows, source: 'zone_override' }
    : nonEmpty(zone.windows) ? { value: zone.windows, source: 'inventory' }
    : { value: settings.windows, source: deployment.windows ? 'deployment' : 'default' };

  for (const key of Object.keys(settings) as Array<keyof IrrigationSettings>) {
    if (TABLES.has(key)) continue;
    const source: SettingSource = override?.settings?.[key] !== undefined ? 'zone_override' : deployment[key] !== undefined ? 'deployment' : 'default';
    out[key] = { value: settings[key], source };
  }
  return out;
}
