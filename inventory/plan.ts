import { TABLES, keyOf, type DesiredRows, type Row, type TableName, type TableSpec } from './tables.ts';

export interface TablePlan {
  spec: TableSpec;
  inserts: Row[];
  updates: Array<{ row: Row; columns: string[] }>;
  /** Current rows the file no longer lists, to mark retired. */
  retires: Row[];
  /** Current rows to delete: link rows always, entities only with prune. */
  deletes: Row[];
}

export type CurrentRows = Record<TableName, Row[]>;

/**
 * The steps that take the registry from `current` to `desired`. Pure, so a re-import of
 * the same file provably plans nothing: every step comes from a column whose value differs.
 * Columns a desired row leaves undefined are not compared (the registry keeps its value).
 */
export function planImport(current: CurrentRows, desired: DesiredRows, options: { prune: boolean }): TablePlan[] {
  return TABLES.map((spec) => {
    const have = new Map(current[spec.table].map((row) => [keyOf(spec, row), row]));
    const want = new Map(desired[spec.table].map((row) => [keyOf(spec, row), row]));
    const plan: TablePlan = { spec, inserts: [], updates: [], retires: [], deletes: [] };
    for (const [key, row] of want) {
      const existing = have.get(key);
      if (!existing) {
        plan.inserts.push(row);
        continue;
      }
      const columns = spec.columns.filter((c) => row[c] !== undefined && !sameValue(row[c], existing[c]));
      if (columns.length > 0) plan.updates.push({ row, columns });
    }
    for (const [key, row] of have) {
      if (want.has(key)) continue;
      if (!spec.retirable || options.prune) plan.deletes.push(row);
      else if (row.retired_at === null || row.retired_at === undefined) plan.retires.push(row);
    }
    return plan;
  });
}

/** SQLite hands back what was stored; undefined and null both mean "no value". */
const sameValue = (a: Row[string], b: Row[string]): boolean => (a ?? null) === (b ?? null);
