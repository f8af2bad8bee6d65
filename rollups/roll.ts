import { ROLLUPS } from '../contracts/influx-schema.ts';
import type { InfluxHttp } from '../influx/http.ts';
import type { RollupStep } from './plan.ts';
import { rollupLines, rollupQuery } from './query.ts';

/** The rollup points of one step, every rolled measurement of its resolution, from the raw points in InfluxDB. */
export async function queryRollupLines(influx: Pick<InfluxHttp, 'query'>, step: RollupStep): Promise<string[]> {
  const lines: string[] = [];
  for (const m of ROLLUPS) {
    if (m.rollup.resolution !== step.resolution) continue;
    const [series = []] = await influx.query(rollupQuery(m, step));
    lines.push(...rollupLines(m, series));
  }
  return lines;
}
