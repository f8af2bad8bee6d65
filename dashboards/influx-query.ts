import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

/** The provisioned InfluxDB datasource: a fixed uid, so dashboards and provisioning agree. */
export const DATASOURCE: DataSourceRef = { type: 'influxdb', uid: 'gs-influxdb' };

export type ResultFormat = 'time_series' | 'table';

/**
 * A raw InfluxQL query as Grafana's InfluxDB datasource stores it. The foundation SDK has
 * no InfluxDB query type, so this is its documented "custom query" pattern: a Dataquery
 * variant plus a builder (an object literal is enough: the SDK only calls build()).
 */
export interface InfluxQuery extends Dataquery {
  refId: string;
  datasource: DataSourceRef;
  query: string;
  rawQuery: true;
  resultFormat: ResultFormat;
  /** Series name pattern ($tag_zone, $col); Grafana's InfluxQL alias syntax. */
  alias?: string;
  hide?: boolean;
}

export interface InfluxQueryOptions {
  refId?: string;
  format?: ResultFormat;
  alias?: string;
}

export function influxQuery(query: string, options: InfluxQueryOptions = {}): Builder<Dataquery> & { build(): InfluxQuery } {
  return {
    build: () => ({
      refId: options.refId ?? 'A',
      datasource: DATASOURCE,
      query,
      rawQuery: true,
      resultFormat: options.format ?? 'time_series',
      ...(options.alias ? { alias: options.alias } : {}),
      // Not serialised (JSON drops functions); marks the object as a Dataquery variant for cog.
      _implementsDataqueryVariant() {},
    }),
  };
}
