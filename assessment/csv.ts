import { toCsv } from '../lib/csv.ts';
import type { Scorecard } from './collect.ts';

const pct = (x: number | null): string => (x === null ? '' : (100 * x).toFixed(1));
const minutes = (ms: number | null): string => (ms === null ? '' : (ms / 60_000).toFixed(1));

export function scorecardToCsv(card: Scorecard): string {
  return toCsv(
    ['month', 'rank', 'community', 'district', 'score', 'sensor_uptime_pct', 'devices', 'in_band_pct', 'zones', 'alerts', 'mtta_min', 'mttr_min', 'work_orders_due', 'work_orders_on_time', 'sla_compliance_pct'],
    card.rows.map((r) => [card.month, r.rank, r.communityId, r.districtId, r.score, pct(r.uptime), r.devices, pct(r.inBand), r.zones, r.alerts,
      minutes(r.mttaMs), minutes(r.mttrMs), r.workOrdersDue, r.workOrdersOnTime, pct(r.slaCompliance)]),
  );
}
