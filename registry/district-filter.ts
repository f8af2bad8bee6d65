/**
 * The SQL condition confining a list to districts (a caller's token scope, api/scope.ts):
 * undefined districts = the whole city (no condition); rows without a district are outside
 * every confinement. `column` is a trusted identifier from the caller's own query.
 */
export function districtCondition(column: string, districts: readonly string[] | undefined): { sql: string; args: string[] } | undefined {
  if (!districts) return undefined;
  if (districts.length === 0) return { sql: '1 = 0', args: [] };
  return { sql: `${column} IN (${districts.map(() => '?').join(', ')})`, args: [...districts] };
}
