import { QuietHours, type Team } from '../contracts/team.ts';

/**
 * A team's quiet hours in the teams.quiet_hours column (migration 041): SQL NULL when the
 * team has none of its own, the JSON text 'null' when it has none at all, else the window.
 * Keys are written in one order, so the same file always gives the same text and a re-import
 * compares equal (inventory imports diff column values).
 */
export function encodeQuietHours(q: Team['quietHours']): string | null {
  if (q === undefined) return null;
  if (q === null) return 'null';
  return JSON.stringify({ start: q.start, end: q.end, ...(q.utcOffsetMinutes === undefined ? {} : { utcOffsetMinutes: q.utcOffsetMinutes }) });
}

/** The column back as the Team field: absent, null or the window (checked: the row was written by encodeQuietHours). */
export function decodeQuietHours(column: unknown): { quietHours?: QuietHours | null } {
  if (column === null || column === undefined) return {};
  const value: unknown = JSON.parse(String(column));
  return { quietHours: value === null ? null : QuietHours.parse(value) };
}
