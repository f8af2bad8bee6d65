import { toCsv } from '../lib/csv.ts';
import type { Scorecard } from './collect.ts';
import { headerOf, SCORECARD_COLUMNS } from './columns.ts';

/** The scorecard as CSV (UTF-8 with a BOM, for Excel), one row per community, Chinese headers first. */
export function scorecardToCsv(card: Scorecard): string {
  return toCsv(SCORECARD_COLUMNS.map(headerOf), card.rows.map((r) => SCORECARD_COLUMNS.map((c) => {
    const v = c.value(r, card);
    return typeof v === 'number' && c.en.endsWith('_pct') ? v.toFixed(1) : typeof v === 'number' && c.en.endsWith('_min') ? v.toFixed(1) : v;
  })));
}
