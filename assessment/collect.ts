import type { Db } from '../registry/db.ts';
import type { Clock } from '../lib/clock.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import type { MoistureBand } from '../contracts/zone.ts';
import { MEASUREMENTS } from '../contracts/influx-schema.ts';
import type { QuerySeries } from '../influx/http.ts';
import { isNoDatabase, tagIn } from '../influx/influxql.ts';
import { bandFor, type BandSettings } from './bands.ts';
import { rankCommunities, DEFAULT_SCORE_CONFIG, type CommunityMetrics, type ScoreConfig, type ScorecardRow } from './score.ts';
import { alertResponse } from './response.ts';
import type { SqlQueries } from '../registry/sql/port.ts';
import { sqliteSqlOf } from '../registry/sql/sqlite.ts';

export interface ScorecardDeps {
  db: Db;
  /** Where the alerts and work orders are (the SQLite `db` when absent; PostgreSQL in clustered mode). */
  sql?: SqlQueries;
  influx: { query(q: string): Promise<QuerySeries[][]> };
  devices: { list(): DeviceInfo[] };
  clock: Clock;
  /** The deployment's irrigation settings (startApp's `irrigation`): a zone is measured against the band it is watered to. */
  irrigation?: BandSettings;
  /** The band the irrigation engine waters a zone to now, an operator's override included (irrigation/engine.ts bandOf); zones it does not water (retired, misconfigured) fall back to bandFor. */
  zoneBand?: (zoneId: string) => MoistureBand | undefined;
  /** Months are the authority's calendar months: UTC+8 (China Standard Time, no DST) by default. */
  tzOffsetMin?: number;
  score?: ScoreConfig;
}

export interface Scorecard { month: string; from: number; to: number; rows: ScorecardRow[] }

/** [start, end) of a calendar month in the given fixed UTC offset, as epoch ms. */
export function monthPeriod(month: string, tzOffsetMin = 480): { from: number; to: number } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw new Error(`expected a month as YYYY-MM, got ${month}`);
  const y = Number(m[1]), mo = Number(m[2]) - 1;
  const shift = tzOffsetMin * 60_000;
  return { from: Date.UTC(y, mo, 1) - shift, to: Date.UTC(y, mo + 1, 1) - shift };
}

/** The field every reading of a measurement carries: what "a report arrived" is counted by. */
const PRESENCE: Record<string, string> = { soil: 'moisture', tilt: 'pitch', valve: 'state', rain: 'rainfall' };

/**
 * Gather the month's metrics for every community (InfluxQL over `soil`/`tilt`/`valve`/`rain`,
 * the ledger for alerts and work orders: SQLite, or PostgreSQL in clustered mode) and rank them.
 */
export async function buildScorecard(deps: ScorecardDeps, month: string): Promise<Scorecard> {
  const { from, to } = monthPeriod(month, deps.tzOffsetMin ?? 480);
  // Before the first reading is shipped the database does not exist yet (the shipper creates
  // it): no readings, not an error, so a new installation's scorecard answers.
  const query = async (q: string) => {
    try {
      return await deps.influx.query(q);
    } catch (error) {
      if (isNoDatabase(error)) return [];
      throw error;
    }
  };
  const until = Math.min(to, deps.clock.now());
  const communities = deps.db.prepare('SELECT id, district_id AS districtId FROM communities ORDER BY id').all() as Array<{ id: string; districtId: string }>;
  const metrics = new Map<string, CommunityMetrics>(communities.map((c) => [c.id, {
    communityId: c.id, districtId: c.districtId, devices: 0, uptime: null, zones: 0, inBand: null,
    alerts: 0, mttaMs: null, mttrMs: null, workOrdersDue: 0, workOrdersOnTime: 0, slaCompliance: null,
  }]));
  const timeRange = `time >= ${from}ms AND time < ${to}ms`;

  // Sensor uptime: readings received / readings expected at the device's report interval,
  // counted from the later of the month's start and the device's registration.
  const counts = new Map<string, number>();
  for (const [measurement, field] of Object.entries(PRESENCE)) {
    const [series = []] = await query(`SELECT count("${field}") FROM "${measurement}" WHERE ${timeRange} GROUP BY "device"`);
    for (const s of series) counts.set(s.tags?.device ?? '', Number(s.values[0]?.[1] ?? 0));
  }
  const created = new Map((deps.db.prepare('SELECT id, created_at AS createdAt FROM devices').all() as Array<{ id: string; createdAt: string }>).map((r) => [r.id, Date.parse(r.createdAt)]));
  const uptimes = new Map<string, number[]>();
  for (const d of deps.devices.list()) {
    if (d.disabled || !d.communityId || !PRESENCE[d.kind]) continue;
    const start = Math.max(from, created.get(d.id) || from);
    const expected = (until - start) / (d.reportIntervalS * 1000);
    if (expected < 1) continue;
    const list = uptimes.get(d.communityId) ?? [];
    list.push(Math.min(1, (counts.get(d.id) ?? 0) / expected));
    uptimes.set(d.communityId, list);
  }
  for (const [community, list] of uptimes) {
    const m = metrics.get(community);
    if (m) { m.devices = list.length; m.uptime = list.reduce((a, b) => a + b, 0) / list.length; }
  }

  // Time in band: hourly median moisture per zone, compared with the zone's band. Zones that
  // share a band are asked in one query (a subquery: InfluxQL has no per-row thresholds).
  const zones = deps.db.prepare('SELECT id, community_id AS communityId, plant, soil, moisture_low AS low, moisture_high AS high FROM zones').all() as Array<{ id: string; communityId: string; plant: string; soil: string; low: number | null; high: number | null }>;
  const byBand = new Map<string, { band: MoistureBand; zones: string[] }>();
  const zoneCommunity = new Map<string, string>();
  for (const z of zones) {
    const band = deps.zoneBand?.(z.id) ?? bandFor(z, deps.irrigation);
    const key = `${band.low}:${band.high}`;
    (byBand.get(key) ?? byBand.set(key, { band, zones: [] }).get(key)!).zones.push(z.id);
    zoneCommunity.set(z.id, z.communityId);
  }
  const hours = new Map<string, { total: number; inside: number }>();
  for (const { band, zones: ids } of byBand.values()) {
    const inner = `SELECT median("moisture") AS m FROM "${MEASUREMENTS.soil.name}" WHERE ${timeRange} AND ${tagIn('zone', ids)} GROUP BY time(1h), "zone"`;
    const [total = []] = await query(`SELECT count("m") FROM (${inner}) GROUP BY "zone"`);
    const [inside = []] = await query(`SELECT count("m") FROM (${inner}) WHERE "m" >= ${band.low} AND "m" <= ${band.high} GROUP BY "zone"`);
    for (const s of total) {
      const community = zoneCommunity.get(s.tags?.zone ?? '');
      if (!community) continue;
      const h = hours.get(community) ?? { total: 0, inside: 0 };
      h.total += Number(s.values[0]?.[1] ?? 0);
      hours.set(community, h);
    }
    for (const s of inside) {
      const h = hours.get(zoneCommunity.get(s.tags?.zone ?? '') ?? '');
      if (h) h.inside += Number(s.values[0]?.[1] ?? 0);
    }
  }
  for (const z of zones) { const m = metrics.get(z.communityId); if (m) m.zones += 1; }
  for (const [community, h] of hours) {
    const m = metrics.get(community);
    if (m && h.total > 0) m.inBand = h.inside / h.total;
  }

  for (const [community, r] of await alertResponse(deps.sql ?? sqliteSqlOf(deps.db), from, to, until)) {
    const m = metrics.get(community);
    if (m) Object.assign(m, r);
  }
  return { month, from, to, rows: rankCommunities([...metrics.values()], deps.score ?? DEFAULT_SCORE_CONFIG) };
}
