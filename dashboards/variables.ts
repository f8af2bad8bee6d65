import { QueryVariableBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { showTagValues } from './influxql.ts';
import { DATASOURCE } from './influx-query.ts';

/**
 * The cascading place variables every dashboard starts with: district → community →
 * zone or facility, each narrowed by its parents (`WHERE "district" =~ /^$district$/`).
 * Soil and tilt together name every district and community that has sensors.
 */
export const PLACE_QUERIES = {
  district: showTagValues(['soil', 'tilt'], 'district'),
  community: showTagValues(['soil', 'tilt'], 'community', [{ tag: 'district', variable: 'district' }]),
  zone: showTagValues(['soil'], 'zone', [{ tag: 'district', variable: 'district' }, { tag: 'community', variable: 'community' }]),
  facility: showTagValues(['tilt'], 'facility', [{ tag: 'district', variable: 'district' }, { tag: 'community', variable: 'community' }]),
  instance: showTagValues(['ingest_stats'], 'instance'),
} as const;

export type PlaceVariable = keyof typeof PLACE_QUERIES;

const LABELS: Record<PlaceVariable, string> = {
  district: 'District',
  community: 'Community',
  zone: 'Zone',
  facility: 'Facility',
  instance: 'Ingest instance',
};

/**
 * Multi-value with All; All means `.*` so a query's `/^$var$/` matches every value,
 * including places that appeared after the variable was last refreshed.
 */
export function placeVariable(name: PlaceVariable): QueryVariableBuilder {
  const query = PLACE_QUERIES[name];
  return new QueryVariableBuilder(name)
    .label(LABELS[name])
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ selected: true, text: ['All'], value: ['$__all'] })
    .refresh(VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.NaturalAsc);
}

/** The cascade up to and including `last`. */
export function placeVariables(...names: PlaceVariable[]): QueryVariableBuilder[] {
  return names.map(placeVariable);
}
