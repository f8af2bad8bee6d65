import type { Scorecard } from './collect.ts';
import type { ScorecardRow } from './score.ts';

const pct = (x: number | null): number | null => (x === null ? null : Math.round(1000 * x) / 10);
const minutes = (ms: number | null): number | null => (ms === null ? null : Math.round(ms / 6_000) / 10);

export interface Column { zh: string; en: string; value(row: ScorecardRow, card: Scorecard): string | number | null }

/**
 * The scorecard's columns in every export (CSV, XLSX) and on the page: the header in Chinese
 * first (the authority reads these), the English key beside it for whoever scripts against
 * the file. Percentages to one decimal, times in minutes.
 */
export const SCORECARD_COLUMNS: readonly Column[] = [
  { zh: '月份', en: 'month', value: (_r, c) => c.month },
  { zh: '排名', en: 'rank', value: (r) => r.rank },
  { zh: '小区', en: 'community', value: (r) => r.communityId },
  { zh: '区', en: 'district', value: (r) => r.districtId },
  { zh: '得分', en: 'score', value: (r) => r.score },
  { zh: '传感器在线率%', en: 'sensor_uptime_pct', value: (r) => pct(r.uptime) },
  { zh: '设备数', en: 'devices', value: (r) => r.devices },
  { zh: '湿度达标率%', en: 'in_band_pct', value: (r) => pct(r.inBand) },
  { zh: '灌溉分区数', en: 'zones', value: (r) => r.zones },
  { zh: '告警数', en: 'alerts', value: (r) => r.alerts },
  { zh: '平均响应(分钟)', en: 'mtta_min', value: (r) => minutes(r.mttaMs) },
  { zh: '平均修复(分钟)', en: 'mttr_min', value: (r) => minutes(r.mttrMs) },
  { zh: '到期工单', en: 'work_orders_due', value: (r) => r.workOrdersDue },
  { zh: '按时完成', en: 'work_orders_on_time', value: (r) => r.workOrdersOnTime },
  { zh: '按时率%', en: 'sla_compliance_pct', value: (r) => pct(r.slaCompliance) },
];

/** One header cell: `排名 rank`. */
export const headerOf = (c: { zh: string; en: string }): string => `${c.zh} ${c.en}`;

export interface DistrictRow { districtId: string; communities: number; scored: number; meanScore: number | null; rank: number }

/**
 * The districts ranked by the mean score of their scored communities (1 = best, ties share a
 * rank, a district with no scored community last), for the page and the workbook's second sheet.
 */
export function rankDistricts(rows: readonly ScorecardRow[]): DistrictRow[] {
  const by = new Map<string, ScorecardRow[]>();
  for (const r of rows) {
    const key = r.districtId ?? '';
    by.set(key, [...(by.get(key) ?? []), r]);
  }
  const out = [...by].map(([districtId, list]) => {
    const scores = list.map((r) => r.score).filter((s): s is number => s !== null);
    const meanScore = scores.length ? Math.round((10 * scores.reduce((a, b) => a + b, 0)) / scores.length) / 10 : null;
    return { districtId, communities: list.length, scored: scores.length, meanScore, rank: 0 };
  });
  out.sort((a, b) => (b.meanScore ?? -1) - (a.meanScore ?? -1) || a.districtId.localeCompare(b.districtId));
  out.forEach((row, i) => {
    const prev = out[i - 1];
    row.rank = prev && prev.meanScore === row.meanScore ? prev.rank : i + 1;
  });
  return out;
}

export const DISTRICT_COLUMNS: ReadonlyArray<{ zh: string; en: string; value(d: DistrictRow): string | number | null }> = [
  { zh: '排名', en: 'rank', value: (d) => d.rank },
  { zh: '区', en: 'district', value: (d) => d.districtId },
  { zh: '小区数', en: 'communities', value: (d) => d.communities },
  { zh: '有得分小区', en: 'scored_communities', value: (d) => d.scored },
  { zh: '平均得分', en: 'mean_score', value: (d) => d.meanScore },
];
