import type { Scorecard } from './collect.ts';
import { DISTRICT_COLUMNS, headerOf, rankDistricts, SCORECARD_COLUMNS, type DistrictRow } from './columns.ts';

/**
 * The scorecard as an Excel workbook (exceljs): sheet 1 the communities ranked (the same
 * columns as the CSV), sheet 2 the districts ranked by their communities' mean score. Numbers
 * stay numbers, so the authority can sort and sum; headers Chinese first, frozen and bold.
 * exceljs is loaded on the first export, not at boot (it is large and most starts never export).
 * `districts`: the ranked districts to list (default: ranked from the card's rows); a confined
 * caller's are the city's ranks of its own districts, as its communities keep the city's ranks.
 */
export async function scorecardToXlsx(card: Scorecard, districtRows: readonly DistrictRow[] = rankDistricts(card.rows)): Promise<Buffer> {
  const { default: ExcelJS } = await import('exceljs');
  const book = new ExcelJS.Workbook();
  book.creator = 'greenspace';
  const communities = book.addWorksheet(`小区排名 ${card.month}`, { views: [{ state: 'frozen', ySplit: 1 }] });
  communities.addRow(SCORECARD_COLUMNS.map(headerOf)).font = { bold: true };
  for (const r of card.rows) communities.addRow(SCORECARD_COLUMNS.map((c) => c.value(r, card)));
  const districts = book.addWorksheet('区排名 districts', { views: [{ state: 'frozen', ySplit: 1 }] });
  districts.addRow(DISTRICT_COLUMNS.map(headerOf)).font = { bold: true };
  for (const d of districtRows) districts.addRow(DISTRICT_COLUMNS.map((c) => c.value(d)));
  for (const sheet of [communities, districts]) sheet.columns.forEach((col) => { col.width = 16; });
  return Buffer.from(await book.xlsx.writeBuffer());
}
