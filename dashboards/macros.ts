/**
 * Grafana's expansion of a raw InfluxQL query, as its InfluxDB datasource does it, so
 * tests can run the exact text a dashboard sends. `$timeFilter` becomes
 * `time >= {from}ms and time <= {to}ms`, `$__interval`/`$interval` a duration like `1m`,
 * `$__interval_ms` an integer; a template variable becomes its value regex-escaped, several
 * values `(a|b)`, and All the variable's allValue.
 */
export interface VariableValue {
  /** The selected values, or 'all'. */
  selected: string[] | 'all';
  allValue?: string | undefined;
  /** Every value the variable offers (used for All without an allValue). */
  options?: string[];
}

export interface MacroContext {
  fromMs: number;
  toMs: number;
  intervalMs: number;
  variables: Record<string, VariableValue>;
}

/** Grafana's regex escaping of variable values (kbn.regexEscape). */
export const regexEscape = (value: string): string => value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');

/** Milliseconds as the shortest Grafana interval string (1m, 30s, 2h, 250ms). */
export function formatInterval(ms: number): string {
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  for (const [unit, size] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

function formatVariable(name: string, value: VariableValue): string {
  if (value.selected === 'all') {
    if (value.allValue !== undefined) return value.allValue;
    return formatValues(value.options ?? []);
  }
  return formatValues(value.selected);
  function formatValues(values: string[]): string {
    if (values.length === 0) throw new Error(`variable ${name} has no value`);
    const escaped = values.map(regexEscape);
    return escaped.length === 1 ? (escaped[0] as string) : `(${escaped.join('|')})`;
  }
}

export function expandMacros(query: string, ctx: MacroContext): string {
  const builtins: Record<string, string> = {
    timeFilter: `time >= ${ctx.fromMs}ms and time <= ${ctx.toMs}ms`,
    __timeFilter: `time >= ${ctx.fromMs}ms and time <= ${ctx.toMs}ms`,
    __interval: formatInterval(ctx.intervalMs),
    interval: formatInterval(ctx.intervalMs),
    __interval_ms: String(ctx.intervalMs),
    __from: String(ctx.fromMs),
    __to: String(ctx.toMs),
  };
  return query.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (whole, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c) as string;
    const builtin = builtins[name];
    if (builtin !== undefined) return builtin;
    const variable = ctx.variables[name];
    if (!variable) throw new Error(`query uses an undefined variable ${whole}: ${query}`);
    return formatVariable(name, variable);
  });
}
