/** InfluxDB line protocol, written by hand: it is five escaping rules and one join. */

const escapeMeasurement = (s: string): string => s.replace(/[, \\]/g, (c) => `\\${c}`);
const escapeKey = (s: string): string => s.replace(/[,= \\]/g, (c) => `\\${c}`);
const escapeString = (s: string): string => s.replace(/[\r\n]+/g, ' ').replace(/["\\]/g, (c) => `\\${c}`);

export type FieldValue = number | string | boolean;

/**
 * One point. Tags with empty values are left out (InfluxDB refuses them); tags are
 * sorted, as InfluxDB recommends for write speed. Numbers are always floats (no `i`),
 * so a field's type never depends on whether a device sent 20 or 20.5.
 */
export function toLine(measurement: string, tags: Record<string, string | undefined>, fields: Record<string, FieldValue | undefined>, tsMs: number): string {
  return toLineWithSeries(seriesKey(measurement, tags), fields, tsMs);
}

/** `measurement,tag=value,...`: the part of a line that is the same for every point of a series. */
export function seriesKey(measurement: string, tags: Record<string, string | undefined>): string {
  let key = escapeMeasurement(measurement);
  for (const name of Object.keys(tags).sort()) {
    const value = tags[name];
    if (value !== undefined && value !== '') key += `,${escapeKey(name)}=${escapeKey(value)}`;
  }
  return key;
}

/** A line from a precomputed series key (the hot path caches it per device). */
export function toLineWithSeries(series: string, fields: Record<string, FieldValue | undefined>, tsMs: number): string {
  let line = series;
  let first = true;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (typeof value === 'number' && !Number.isFinite(value)) continue;
    line += `${first ? ' ' : ','}${escapeKey(key)}=${formatField(value)}`;
    first = false;
  }
  if (first) throw new Error(`a point needs at least one field (${series})`);
  return `${line} ${Math.trunc(tsMs)}`;
}

function formatField(value: FieldValue): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return `"${escapeString(value)}"`;
}
