import { MEASUREMENTS, type FieldName, type MeasurementName, type TagName } from '../contracts/influx-schema.ts';

/**
 * InfluxQL fragments built only from contracts/influx-schema.ts: a dashboard cannot name
 * a measurement, tag or field the writers do not produce, because these helpers do not
 * compile with any other name. Every identifier they emit is double-quoted, which is what
 * `checkQuery` (below) relies on to re-check finished query text at test time; aliases
 * are left bare on purpose so the checker can tell them apart.
 */

/** Tags every one of the measurements carries (for multi-measurement FROM clauses). */
export type CommonTag<M extends MeasurementName> = { [K in M]: (x: TagName<K>) => void }[M] extends (x: infer I) => void ? I & string : never;
export type CommonField<M extends MeasurementName> = { [K in M]: (x: FieldName<K>) => void }[M] extends (x: infer I) => void ? I & string : never;

const quote = (name: string): string => `"${name}"`;

/** The typed vocabulary of one measurement (or several, sharing their common names). */
export function on<M extends MeasurementName>(...names: [M, ...M[]]) {
  return {
    /** `"soil"` or `"soil", "tilt"` for a FROM clause. */
    from: names.map((n) => quote(MEASUREMENTS[n].name)).join(', '),
    f: (field: CommonField<M>): string => quote(field),
    t: (tag: CommonTag<M>): string => quote(tag),
    /** `"tag" =~ /^$variable$/`: a template-variable filter (multi-value and All safe). */
    match: (tag: CommonTag<M>, variable: string): string => `${quote(tag)} =~ /^$${variable}$/`,
    /** `"tag" = 'value'` with the value escaped as an InfluxQL string literal. */
    is: (tag: CommonTag<M>, value: string): string => `${quote(tag)} = '${value.replace(/['\\]/g, (c) => `\\${c}`)}'`,
    /** A list of tags for GROUP BY. */
    by: (...tags: CommonTag<M>[]): string => tags.map(quote).join(', '),
  };
}

/** `SHOW TAG VALUES FROM ... WITH KEY = "key" [WHERE "a" =~ /^$a$/ AND ...]`: a cascading variable's query. */
export function showTagValues<M extends MeasurementName>(measurements: [M, ...M[]], key: CommonTag<M>, parents: Array<{ tag: CommonTag<M>; variable: string }> = []): string {
  const m = on(...measurements);
  const where = parents.map((p) => m.match(p.tag, p.variable)).join(' AND ');
  return `SHOW TAG VALUES FROM ${m.from} WITH KEY = ${m.t(key)}${where ? ` WHERE ${where}` : ''}`;
}

export interface QueryProblem {
  problem: 'no_measurement' | 'unknown_measurement' | 'unknown_name';
  name: string;
}

const KNOWN = new Map<string, ReadonlySet<string>>(
  Object.values(MEASUREMENTS).map((m) => [m.name, new Set<string>([...m.tags, ...m.fields, 'time'])]),
);

/**
 * Re-check finished query text against the schema: every measurement after FROM must be
 * one the writers produce, and every other double-quoted identifier must be a tag or
 * field of a measurement the query reads (`time` included). String and regex literals
 * are ignored. Returns the problems (empty when the query is clean).
 */
export function checkQuery(query: string): QueryProblem[] {
  const text = query.replace(/'(?:[^'\\]|\\.)*'/g, "''").replace(/=~\s*\/(?:[^/\\]|\\.)*\//g, '=~ //').replace(/!~\s*\/(?:[^/\\]|\\.)*\//g, '!~ //');
  const problems: QueryProblem[] = [];
  const measurements = new Set<string>();
  const fromList = /\bFROM\s+("[^"]+"(?:\s*,\s*"[^"]+")*)/gi;
  for (const match of text.matchAll(fromList)) {
    for (const quoted of (match[1] ?? '').matchAll(/"([^"]+)"/g)) measurements.add(quoted[1] ?? '');
  }
  if (measurements.size === 0) return [{ problem: 'no_measurement', name: '' }];
  for (const m of measurements) if (!KNOWN.has(m)) problems.push({ problem: 'unknown_measurement', name: m });
  const allowed = new Set<string>([...measurements].flatMap((m) => [...(KNOWN.get(m) ?? [])]));
  // Strip the FROM lists, then every remaining quoted identifier is a tag or a field.
  const rest = text.replace(fromList, 'FROM');
  for (const quoted of rest.matchAll(/"([^"]+)"/g)) {
    const name = quoted[1] ?? '';
    if (!allowed.has(name)) problems.push({ problem: 'unknown_name', name });
  }
  return problems;
}
