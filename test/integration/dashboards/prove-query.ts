import type { InfluxHttp, QuerySeries } from '../../../influx/http.ts';
import { checkQuery } from '../../../dashboards/influxql.ts';
import { expandMacros, type MacroContext } from '../../../dashboards/macros.ts';

export interface Proof {
  expanded: string;
  series: QuerySeries[];
  /** Why the query is not proven; empty when it is. */
  failures: string[];
}

/**
 * A dashboard query is proven when it names only what the writers produce (a misspelt
 * GROUP BY tag still returns rows, so the static check is needed) and, expanded as
 * Grafana would, returns at least one series with values from InfluxDB (a misspelt
 * measurement or field returns nothing and no error, so rows are required too).
 */
export async function proveQuery(influx: InfluxHttp, query: string, ctx: MacroContext, options: { requireRows?: boolean } = {}): Promise<Proof> {
  const failures = checkQuery(query).map((p) => `${p.problem}: ${p.name}`);
  const expanded = expandMacros(query, ctx);
  let series: QuerySeries[] = [];
  try {
    const [first = []] = await influx.query(expanded);
    series = first;
  } catch (error) {
    failures.push(`error: ${(error as Error).message}`);
  }
  if ((options.requireRows ?? true) && !series.some((s) => s.values.length > 0)) failures.push('no series');
  return { expanded, series, failures };
}
