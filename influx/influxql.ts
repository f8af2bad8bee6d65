/** Pieces of InfluxQL queries that more than one reader builds (the scorecard, a takeover's latest soil readings). */

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** `"tag" =~ /^(a|b)$/`: the tag is one of `values`, each matched literally. */
export function tagIn(tag: string, values: readonly string[]): string {
  return `"${tag}" =~ /^(${values.map(escapeRegex).join('|')})$/`;
}

/**
 * The query's database does not exist yet: the shipper creates it with the first readings, so
 * before them a reader has no rows rather than an error.
 */
export function isNoDatabase(error: unknown): boolean {
  return error instanceof Error && /database not found/i.test(error.message);
}
