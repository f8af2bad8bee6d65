import { z } from 'zod';
import { DATASOURCE } from './influx-query.ts';

/**
 * The subset of Grafana's dashboard JSON (schemaVersion 36+) this generator emits, checked
 * at test time; the foundation SDK's types check the same at compile time. Strict where a
 * mistake would silently break a panel in Grafana (queries, datasource refs, variables),
 * open where Grafana owns the shape (panel options, field config values).
 */
const DatasourceRef = z.strictObject({ type: z.literal(DATASOURCE.type), uid: z.literal(DATASOURCE.uid as string) });

export const InfluxTarget = z.strictObject({
  refId: z.string().regex(/^[A-Z][A-Za-z0-9]*$/),
  datasource: DatasourceRef,
  query: z.string().min(1),
  rawQuery: z.literal(true),
  resultFormat: z.enum(['time_series', 'table']),
  alias: z.string().optional(),
  hide: z.boolean().optional(),
});

const AnnotationTarget = InfluxTarget.extend({ textColumn: z.string(), tagsColumn: z.string() });

const GridPos = z.strictObject({ h: z.number().int().positive(), w: z.number().int().min(1).max(24), x: z.number().int().min(0).max(23), y: z.number().int().min(0) })
  .refine((g) => g.x + g.w <= 24, { message: 'panel wider than the 24-column grid' });

const Override = z.strictObject({
  matcher: z.strictObject({ id: z.enum(['byName', 'byRegexp', 'byType', 'byFrameRefID']), options: z.unknown() }),
  properties: z.array(z.strictObject({ id: z.string(), value: z.unknown() })),
});

const Link = z.object({ title: z.string(), type: z.enum(['link', 'dashboards']), url: z.string().optional(), tags: z.array(z.string()) });

export const PANEL_TYPES = ['timeseries', 'stat', 'table', 'text', 'state-timeline', 'bargauge'] as const;

export const PanelJson = z.object({
  id: z.number().int().positive(),
  type: z.enum(PANEL_TYPES),
  title: z.string().min(1),
  gridPos: GridPos,
  targets: z.array(InfluxTarget).optional(),
  fieldConfig: z.object({ defaults: z.record(z.string(), z.unknown()), overrides: z.array(Override) }).optional(),
  options: z.record(z.string(), z.unknown()).optional(),
  transformations: z.array(z.strictObject({ id: z.string(), options: z.record(z.string(), z.unknown()) })).optional(),
  repeat: z.string().optional(),
  maxPerRow: z.number().int().optional(),
}).refine((p) => p.type === 'text' || (p.targets?.length ?? 0) > 0, { message: 'a data panel needs at least one query' })
  .refine((p) => new Set(p.targets?.map((t) => t.refId)).size === (p.targets?.length ?? 0), { message: 'refIds must be unique within a panel' });

export const VariableJson = z.object({
  type: z.literal('query'),
  name: z.string().regex(/^\w+$/),
  label: z.string(),
  datasource: DatasourceRef,
  query: z.string().startsWith('SHOW TAG VALUES'),
  definition: z.string(),
  multi: z.boolean(),
  includeAll: z.boolean(),
  allValue: z.string().optional(),
  refresh: z.union([z.literal(1), z.literal(2)]),
});

export const DashboardJson = z.object({
  uid: z.string().regex(/^[a-z0-9-]{1,40}$/),
  title: z.string().min(1),
  description: z.string(),
  tags: z.array(z.string()),
  schemaVersion: z.number().int().min(36),
  time: z.strictObject({ from: z.string(), to: z.string() }),
  refresh: z.string(),
  templating: z.object({ list: z.array(VariableJson) }),
  annotations: z.object({ list: z.array(z.object({ name: z.string(), datasource: DatasourceRef, enable: z.boolean(), iconColor: z.string(), target: AnnotationTarget })).optional() }),
  panels: z.array(PanelJson).min(1),
  links: z.array(Link),
}).superRefine((d, ctx) => {
  const ids = d.panels.map((p) => p.id);
  if (new Set(ids).size !== ids.length) ctx.addIssue({ code: 'custom', message: 'panel ids must be unique', path: ['panels'] });
  const names = new Set(d.templating.list.map((v) => v.name));
  if (names.size !== d.templating.list.length) ctx.addIssue({ code: 'custom', message: 'variable names must be unique', path: ['templating'] });
  for (const [i, p] of d.panels.entries()) {
    if (p.repeat && !names.has(p.repeat)) ctx.addIssue({ code: 'custom', message: `repeat on undefined variable ${p.repeat}`, path: ['panels', i, 'repeat'] });
  }
  // Every $variable a query uses must be defined here (or be one of Grafana's own).
  const builtins = new Set(['timeFilter', '__timeFilter', '__interval', 'interval', '__interval_ms', '__from', '__to']);
  const queries = [...d.panels.flatMap((p) => p.targets ?? []), ...d.templating.list, ...(d.annotations.list ?? []).map((a) => a.target)].map((t) => t.query);
  for (const q of queries) {
    for (const m of q.matchAll(/\$\{(\w+)[^}]*\}|\[\[(\w+)\]\]|\$(\w+)/g)) {
      const name = (m[1] ?? m[2] ?? m[3]) as string;
      if (!builtins.has(name) && !names.has(name)) ctx.addIssue({ code: 'custom', message: `query uses undefined variable $${name}: ${q}`, path: ['panels'] });
    }
  }
});
export type DashboardJson = z.infer<typeof DashboardJson>;

export interface FoundQuery {
  /** dashboard uid › panel title / variable name / annotation name */
  where: string;
  kind: 'panel' | 'variable' | 'annotation';
  query: string;
}

/** Every InfluxQL query of a dashboard: panel targets, query variables, annotations. */
export function collectQueries(dashboard: DashboardJson): FoundQuery[] {
  return [
    ...dashboard.templating.list.map((v) => ({ where: `${dashboard.uid} › $${v.name}`, kind: 'variable' as const, query: v.query })),
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `${dashboard.uid} › ${p.title} › ${t.refId}`, kind: 'panel' as const, query: t.query }))),
    ...(dashboard.annotations.list ?? []).map((a) => ({ where: `${dashboard.uid} › annotation ${a.name}`, kind: 'annotation' as const, query: a.target.query })),
  ];
}
