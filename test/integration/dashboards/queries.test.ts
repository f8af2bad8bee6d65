import { beforeAll, describe, expect, it, inject } from 'vitest';
import { BOARDS } from '../../../dashboards/boards/index.ts';
import { facilityTiltQuery, zoneMoistureQuery } from '../../../dashboards/boards/community.ts';
import { collectQueries, DashboardJson } from '../../../dashboards/dashboard-schema.ts';
import type { MacroContext, VariableValue } from '../../../dashboards/macros.ts';
import { PLACE_QUERIES } from '../../../dashboards/variables.ts';
import { createInfluxHttp, type InfluxHttp, type QuerySeries } from '../../../influx/http.ts';
import { uniqueDb } from '../../helpers/app.ts';
import { proveQuery } from './prove-query.ts';
import { seedCity, type SeededCity } from './seed.ts';

const TO_MS = Date.UTC(2026, 5, 1, 12);
const dashboards = BOARDS.map((b) => DashboardJson.parse(JSON.parse(JSON.stringify(b.build()))));
const queries = dashboards.flatMap((d) => collectQueries(d).map((q) => ({ ...q, dashboard: d })));

function context(city: SeededCity, dashboard: DashboardJson, selected: Record<string, string[]> = {}): MacroContext {
  const variables: Record<string, VariableValue> = {};
  for (const v of dashboard.templating.list) variables[v.name] = { selected: selected[v.name] ?? 'all', allValue: v.allValue };
  return { fromMs: city.fromMs, toMs: city.toMs, intervalMs: 5 * 60_000, variables };
}

/** A selection narrower than the city at every level; every query must return rows for it. */
const NARROW = { district: ['north'], community: ['c-001', 'c.002'], zone: ['c-001-z1'], facility: ['f-001-pavilion'], instance: ['gs-test'] };

/**
 * Every place a result names, as a tag of its series or as a column of its rows, that lies
 * outside NARROW: a district or community not selected, a zone or facility not selected, a
 * device or alert subject of a community not selected.
 */
function leaks(city: SeededCity, series: QuerySeries[]): string[] {
  const communities = city.communities.filter((c) => NARROW.community.includes(c.id));
  // Device and subject ids begin with their community, zone or facility id (test/integration/dashboards/seed.ts).
  const owners = communities.flatMap((c) => [c.id, ...c.zones, ...c.facilities]);
  const allowed: Record<string, (v: string) => boolean> = {
    district: (v) => NARROW.district.includes(v),
    community: (v) => NARROW.community.includes(v),
    zone: (v) => NARROW.zone.includes(v),
    facility: (v) => NARROW.facility.includes(v),
    instance: (v) => NARROW.instance.includes(v),
    device: (v) => owners.some((o) => v.startsWith(`${o}-`)),
    subject: (v) => owners.some((o) => v === o || v.startsWith(`${o}-`)),
  };
  const found: string[] = [];
  for (const s of series) {
    const named: Array<[string, unknown]> = Object.entries(s.tags ?? {});
    s.columns.forEach((column, i) => { for (const row of s.values) named.push([column, row[i]]); });
    for (const [key, value] of named) {
      const ok = allowed[key];
      if (ok && typeof value === 'string' && value !== '' && !ok(value)) found.push(`${key}=${value}`);
    }
  }
  return [...new Set(found)];
}

describe('every dashboard query on a seeded InfluxDB', () => {
  let influx: InfluxHttp;
  let city: SeededCity;

  beforeAll(async () => {
    influx = createInfluxHttp({ url: inject('influxUrl'), db: uniqueDb('dash') });
    city = await seedCity(influx, { toMs: TO_MS });
  });

  it('has queries to prove on every dashboard', () => {
    expect(dashboards).toHaveLength(6);
    for (const d of dashboards) expect(queries.filter((q) => q.dashboard === d).length).toBeGreaterThan(2);
  });

  it.each(queries.map((q) => [q.where, q] as const))('%s returns series with every variable at All', async (_where, q) => {
    const proof = await proveQuery(influx, q.query, context(city, q.dashboard));
    expect(proof.failures, proof.expanded).toEqual([]);
  });

  it.each(queries.map((q) => [q.where, q] as const))('%s runs with a narrowed, multi-value selection and nothing outside it', async (_where, q) => {
    const proof = await proveQuery(influx, q.query, context(city, q.dashboard, NARROW));
    expect(proof.failures, proof.expanded).toEqual([]);
    expect(leaks(city, proof.series), proof.expanded).toEqual([]);
  });

  it('cascades district → community → zone / facility', async () => {
    const values = async (query: string, selected: Record<string, string[]>) => {
      const variables = Object.fromEntries(['district', 'community'].map((n) => [n, { selected: selected[n] ?? ('all' as const), allValue: '.*' }]));
      const proof = await proveQuery(influx, query, { fromMs: city.fromMs, toMs: city.toMs, intervalMs: 60_000, variables });
      expect(proof.failures).toEqual([]);
      return [...new Set(proof.series.flatMap((s) => s.values.map((v) => String(v[1]))))].sort();
    };
    expect(await values(PLACE_QUERIES.district, {})).toEqual(['north', 'south']);
    expect(await values(PLACE_QUERIES.community, { district: ['north'] })).toEqual(['c-001', 'c.002']);
    // A single value is regex-escaped: "c.002" must not match "c-002"-like ids by its dot.
    expect(await values(PLACE_QUERIES.zone, { district: ['north'], community: ['c.002'] })).toEqual(['c.002-z1', 'c.002-z2']);
    expect(await values(PLACE_QUERIES.facility, { community: ['c-001', 'c-101'] })).toEqual(['f-001-pavilion', 'f-001-rope', 'f-101-gym', 'f-101-trough']);
  });

  it('finds what the seeded city holds: dry zones, damaged facilities, open alerts', async () => {
    const overview = dashboards.find((d) => d.uid === 'gs-city-overview') as DashboardJson;
    const table = overview.panels.find((p) => p.title === 'Communities');
    const [dry, damaged, , open] = await Promise.all((table?.targets ?? []).map((t) => proveQuery(influx, t.query, context(city, overview))));
    const byCommunity = (p: typeof dry) => Object.fromEntries((p?.series ?? []).map((s) => [s.tags?.community, s.values[0]?.[1]]));
    // The first zone of every community dries out below its band.
    expect(byCommunity(dry)).toEqual({ 'c-001': 1, 'c.002': 1, 'c-101': 1 });
    // Pavilion (acknowledged) and trough (firing) are damaged; the rope and the bench are not.
    expect(byCommunity(damaged)).toEqual({ 'c-001': 1, 'c-101': 1 });
    // c-001: the pavilion and a stuck sensor; c.002: a low battery (its offline alert resolved); c-101: the trough and a low battery.
    expect(byCommunity(open)).toEqual({ 'c-001': 2, 'c.002': 1, 'c-101': 2 });
  });
});

describe('the query check refuses names the writers do not produce', () => {
  let influx: InfluxHttp;
  let city: SeededCity;
  beforeAll(async () => {
    influx = createInfluxHttp({ url: inject('influxUrl'), db: uniqueDb('dashbad') });
    city = await seedCity(influx, { toMs: TO_MS });
  });
  const all = (): MacroContext => ({
    fromMs: city.fromMs, toMs: city.toMs, intervalMs: 300_000,
    variables: Object.fromEntries(['district', 'community', 'zone', 'facility'].map((n) => [n, { selected: 'all' as const, allValue: '.*' }])),
  });

  it('proves the good queries it is given', async () => {
    expect((await proveQuery(influx, zoneMoistureQuery, all())).failures).toEqual([]);
    expect((await proveQuery(influx, facilityTiltQuery, all())).failures).toEqual([]);
  });

  it.each([
    ['a measurement', zoneMoistureQuery.replace('FROM "soil"', 'FROM "soils"'), ['unknown_measurement: soils', 'unknown_name: moisture', 'no series']],
    ['a field', zoneMoistureQuery.replace('median("moisture")', 'median("moist")'), ['unknown_name: moist', 'no series']],
    // With All (`/^.*$/`) a filter on a missing tag matches everything (its value is ''):
    // again only the static check sees it.
    ['a tag in WHERE', zoneMoistureQuery.replace('"zone" =~', '"zone_id" =~'), ['unknown_name: zone_id']],
    // InfluxDB happily groups by a tag nobody writes: only the static check catches it.
    ['a tag in GROUP BY', facilityTiltQuery.replace('"facility_type"', '"type"'), ['unknown_name: type']],
    ['a field of another measurement', facilityTiltQuery.replace('max("tilt")', 'max("moisture")'), ['unknown_name: moisture', 'no series']],
  ])('fails a query naming %s the writer does not produce', async (_what, query, expected) => {
    const { failures } = await proveQuery(influx, query, all());
    expect(failures).toEqual(expect.arrayContaining(expected));
    expect(failures.filter((f) => !expected.includes(f)).every((f) => f.startsWith('unknown_name'))).toBe(true);
  });
});
