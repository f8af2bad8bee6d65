import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  AnnotationQueryBuilder, DashboardBuilder, DashboardCursorSync, DashboardLinkBuilder, DashboardLinkType,
  ThresholdsConfigBuilder, ThresholdsMode, type Dashboard, type DynamicConfigValue, type Panel, type RowPanel,
} from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { DATASOURCE, influxQuery, type ResultFormat } from './influx-query.ts';
import { placeVariables, type PlaceVariable } from './variables.ts';

export interface Q {
  query: string;
  format?: ResultFormat;
  alias?: string;
}

/** Add queries to a panel with refIds A, B, C… in order. */
export function withQueries<P extends { withTarget(target: Builder<Dataquery>): P }>(panel: P, ...queries: Q[]): P {
  queries.forEach((q, i) => panel.withTarget(influxQuery(q.query, { refId: String.fromCharCode(65 + i), format: q.format, alias: q.alias })));
  return panel;
}

/** Absolute thresholds from [colour, from-value] pairs; the first value is null (the base). */
export function steps(...pairs: Array<[string, number | null]>): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(pairs.map(([color, value]) => ({ color, value })));
}

export const legendTable = (): common.VizLegendOptionsBuilder =>
  new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Bottom).calcs(['lastNotNull', 'min', 'max']);

export const legendList = (): common.VizLegendOptionsBuilder =>
  new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom);

export function timeSeries(title: string, unit: string, ...queries: Q[]): timeseries.PanelBuilder {
  return withQueries(new timeseries.PanelBuilder().title(title).unit(unit).legend(legendList()).span(12).height(8), ...queries);
}

export function bars(title: string, unit: string, ...queries: Q[]): timeseries.PanelBuilder {
  return timeSeries(title, unit, ...queries).drawStyle(common.GraphDrawStyle.Bars).fillOpacity(80);
}

export function statPanel(title: string, unit: string, ...queries: Q[]): stat.PanelBuilder {
  return withQueries(
    new stat.PanelBuilder().title(title).unit(unit).span(6).height(4)
      .colorMode(common.BigValueColorMode.Background).graphMode(common.BigValueGraphMode.None)
      .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false)),
    ...queries.map((q) => ({ format: 'table' as const, ...q })),
  );
}

export function tablePanel(title: string, ...queries: Q[]): table.PanelBuilder {
  return withQueries(new table.PanelBuilder().title(title).span(24).height(10), ...queries.map((q) => ({ format: 'table' as const, ...q })));
}

/** Field override properties: thresholds drawn on a series, or colouring a table cell. */
export const thresholdProps = (thresholds: ThresholdsConfigBuilder, style: common.GraphThresholdsStyleMode): DynamicConfigValue[] => [
  { id: 'thresholds', value: thresholds.build() },
  { id: 'custom.thresholdsStyle', value: { mode: style } },
];
export const cellColour = (thresholds: ThresholdsConfigBuilder): DynamicConfigValue[] => [
  { id: 'thresholds', value: thresholds.build() },
  { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorBackground } },
];

export const TRANSFORMS = {
  /** Join table results of several queries on their common columns (the group-by tags). */
  merge: { id: 'merge', options: {} },
  hideTime: { id: 'organize', options: { excludeByName: { Time: true } } },
};

export function annotation(name: string, iconColor: string, query: string, columns: { text: string; tags: string }): AnnotationQueryBuilder {
  const target = influxQuery(query, { refId: 'Anno' });
  return new AnnotationQueryBuilder().name(name).datasource(DATASOURCE).enable(true).iconColor(iconColor)
    .target({ build: () => ({ ...target.build(), textColumn: columns.text, tagsColumn: columns.tags }) });
}

export interface BoardSpec {
  uid: string;
  title: string;
  description: string;
  variables: PlaceVariable[];
}

/** Every dashboard's frame: tags, time, refresh, the place variables and a menu of the others. */
export function board(spec: BoardSpec): DashboardBuilder {
  return new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['greenspace'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-24h', to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .variables(placeVariables(...spec.variables))
    .link(new DashboardLinkBuilder('Greenspace').type(DashboardLinkType.Dashboards).tags(['greenspace']).asDropdown(true).includeVars(true).keepTime(true).icon('external link').tooltip('').targetBlank(false));
}

/**
 * Last touches the SDK does not make: panel ids (Grafana needs them unique within a
 * dashboard; the SDK leaves them unset), and annotation toggles and dashboard links shown
 * on the dashboard rather than tucked into the controls menu (the SDK's default placement).
 */
export function finish(dashboard: Dashboard): Dashboard {
  let id = 1;
  const number = <T extends Panel | RowPanel>(p: T): T => ({ ...p, id: id++, ...('panels' in p && p.type === 'row' ? { panels: p.panels.map(number) } : {}) });
  const annotations = (dashboard.annotations.list ?? []).map(({ placement: _placement, ...rest }) => rest);
  const links = (dashboard.links ?? []).map(({ placement: _placement, ...rest }) => rest);
  return { ...dashboard, panels: (dashboard.panels ?? []).map(number), annotations: { ...dashboard.annotations, list: annotations }, links };
}
