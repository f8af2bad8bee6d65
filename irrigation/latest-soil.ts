import { z } from 'zod';
import type { Db } from '../registry/db.ts';
import type { QuerySeries } from '../influx/http.ts';
import type { IrrigationEvent } from '../rules/irrigation/state.ts';
import { MEASUREMENTS } from '../contracts/influx-schema.ts';
import { isNoDatabase, tagIn } from '../influx/influxql.ts';

export type SoilEvent = Extract<IrrigationEvent, { type: 'soil' }>;

/** The latest soil reading of each sensor of the zones, from InfluxDB (a zone taken over: irrigation/handover.ts). */
export type LatestSoil = (zoneIds: readonly string[]) => Promise<Array<{ zoneId: string; event: SoilEvent }>>;

/** How far back a sensor's latest reading is looked for: a sensor silent longer is stale to the rules anyway. */
export const LATEST_SOIL_WINDOW_MS = 6 * 3_600_000;
/** Zones per query (the regex stays far below any URL or InfluxQL limit; a community has a handful). */
const MAX_ZONES = 500;

// InfluxDB is an external input: only what the rules can use passes.
const Row = z.tuple([z.number().int().nonnegative(), z.number().finite().nullable(), z.number().finite().nullable()]);
const Series = z.object({
  tags: z.object({ device: z.string().min(1).max(200), zone: z.string().max(200) }),
  columns: z.tuple([z.literal('time'), z.literal('moisture'), z.literal('temperature')]),
  values: z.array(z.unknown()).max(1),
});

/**
 * The latest reading of each soil sensor of the zones within LATEST_SOIL_WINDOW_MS, as the
 * rules take a live one (the device's report interval from the registry). A reading whose
 * device is no longer a soil sensor of that zone, or that InfluxDB answers in a shape not
 * expected, is left out.
 */
export function createLatestSoil(deps: { influx: { query(q: string): Promise<QuerySeries[][]> }; db: Db; now: () => number }): LatestSoil {
  const device = deps.db.prepare("SELECT report_interval_s AS intervalS FROM devices WHERE id = ? AND zone_id = ? AND kind = 'soil' AND disabled = 0 AND retired_at IS NULL");
  return async (zoneIds) => {
    const out: Array<{ zoneId: string; event: SoilEvent }> = [];
    for (let i = 0; i < zoneIds.length; i += MAX_ZONES) {
      const ids = zoneIds.slice(i, i + MAX_ZONES);
      const since = deps.now() - LATEST_SOIL_WINDOW_MS;
      const q = `SELECT "moisture", "temperature" FROM "${MEASUREMENTS.soil.name}" WHERE time >= ${since}ms AND ${tagIn('zone', ids)} GROUP BY "device", "zone" ORDER BY time DESC LIMIT 1`;
      let series: QuerySeries[];
      try {
        [series = []] = await deps.influx.query(q);
      } catch (error) {
        if (isNoDatabase(error)) continue; // nothing shipped yet: no readings
        throw error;
      }
      for (const s of series) {
        const parsed = Series.safeParse(s);
        if (!parsed.success) continue;
        const row = Row.safeParse(parsed.data.values[0]);
        if (!row.success) continue;
        const [at, moisture, temperature] = row.data;
        const { device: deviceId, zone: zoneId } = parsed.data.tags;
        if (moisture === null || !ids.includes(zoneId)) continue;
        const registered = device.get(deviceId, zoneId) as { intervalS: number } | undefined;
        if (!registered) continue;
        out.push({ zoneId, event: { type: 'soil', deviceId, at, moisture, ...(temperature === null ? {} : { temperature }), intervalS: registered.intervalS } });
      }
    }
    return out;
  };
}
