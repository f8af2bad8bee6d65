import { ROLLUP_AGGREGATES, ROLLUP_RESOLUTIONS, type RollupMeasurement } from '../contracts/influx-schema.ts';
import type { QuerySeries } from '../influx/http.ts';
import { toLine } from '../influx/line-protocol.ts';
import type { RollupStep } from './plan.ts';

/**
 * The InfluxQL that rolls one step up: every aggregate of every rolled field, per window
 * and per series (`GROUP BY *` keeps every tag, so a rollup point has its raw series'
 * tags). Plain aggregates and GROUP BY time only: what InfluxQL on 1.x, 2.x (v1 API)
 * and 3.x all answer. `fill(none)`: a window without points gets no rollup point.
 */
export function rollupQuery(m: RollupMeasurement, step: RollupStep): string {
  const columns = m.rollup.sourceFields.flatMap((f) => ROLLUP_AGGREGATES.map((a) => `${a}("${f}") AS "${f}_${a}"`));
  return `SELECT ${columns.join(', ')} FROM "${m.rollup.source}" WHERE time >= ${step.fromMs}ms AND time < ${step.toMs}ms GROUP BY time(${m.rollup.resolution}), * fill(none)`;
}

/**
 * The rollup points of a query's answer (epoch ms), as line protocol: one per series and
 * window, at the window's start, so rolling a window again writes the same points over
 * themselves. A field without points in the window is left out (InfluxDB answers null for all four
 * of its aggregates, count included).
 */
export function rollupLines(m: RollupMeasurement, series: readonly QuerySeries[]): string[] {
  const lines: string[] = [];
  for (const s of series) {
    const time = s.columns.indexOf('time');
    for (const row of s.values) {
      const fields: Record<string, number | undefined> = {};
      s.columns.forEach((column, i) => {
        if (i !== time) fields[column] = typeof row[i] === 'number' ? row[i] : undefined;
      });
      if (Object.values(fields).some((v) => v !== undefined)) lines.push(toLine(m.name, s.tags ?? {}, fields, Number(row[time])));
    }
  }
  return lines;
}

/** How many windows of a resolution one query may cover: about a day of hours, one day. */
export const WINDOWS_PER_STEP: Record<keyof typeof ROLLUP_RESOLUTIONS, number> = { '1h': 24, '1d': 1 };
