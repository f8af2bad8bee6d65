export type Cell = string | number | boolean | null | undefined;

/**
 * RFC 4180 CSV with a UTF-8 BOM, so Excel (what the authority opens these in) shows
 * Chinese names correctly. Text cells starting with = + - @ are prefixed with a quote
 * mark: a device-supplied message must not become a spreadsheet formula.
 */
export function toCsv(header: readonly string[], rows: ReadonlyArray<readonly Cell[]>): string {
  const lines = [header, ...rows].map((row) => row.map(cell).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

function cell(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export const isoOrEmpty = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '' : new Date(ms).toISOString());
