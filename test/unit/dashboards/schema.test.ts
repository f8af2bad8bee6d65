import { describe, expect, it } from 'vitest';
import { BOARDS } from '../../../dashboards/boards/index.ts';
import { collectQueries, DashboardJson } from '../../../dashboards/dashboard-schema.ts';
import { checkQuery } from '../../../dashboards/influxql.ts';

const built = BOARDS.map((b) => ({ file: b.file, json: JSON.parse(JSON.stringify(b.build())) as Record<string, unknown> }));
const clone = <T>(v: T): T => structuredClone(v);

describe('generated dashboards', () => {
  it.each(built.map((b) => [b.file, b.json]))('%s validates against the dashboard schema', (_file, json) => {
    const result = DashboardJson.safeParse(json);
    expect(result.success ? [] : result.error.issues).toEqual([]);
  });

  it.each(built.flatMap((b) => collectQueries(DashboardJson.parse(b.json)).map((q) => [q.where, q.query])))('%s names only what the writers produce', (_where, query) => {
    expect(checkQuery(query)).toEqual([]);
  });

  it('have unique uids and link the overview to the community dashboard', () => {
    const uids = built.map((b) => b.json.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(JSON.stringify(built.find((b) => b.file === 'city-overview.json')?.json)).toContain('/d/gs-community/community?var-district=');
  });

  it('cascade their place variables: each narrows by the ones before it', () => {
    const community = DashboardJson.parse(built.find((b) => b.file === 'community.json')?.json);
    expect(community.templating.list.map((v) => [v.name, v.query])).toEqual([
      ['district', 'SHOW TAG VALUES FROM "soil", "tilt" WITH KEY = "district"'],
      ['community', 'SHOW TAG VALUES FROM "soil", "tilt" WITH KEY = "community" WHERE "district" =~ /^$district$/'],
      ['zone', 'SHOW TAG VALUES FROM "soil" WITH KEY = "zone" WHERE "district" =~ /^$district$/ AND "community" =~ /^$community$/'],
      ['facility', 'SHOW TAG VALUES FROM "tilt" WITH KEY = "facility" WHERE "district" =~ /^$district$/ AND "community" =~ /^$community$/'],
    ]);
  });
});

describe('the dashboard schema refuses what Grafana would silently mishandle', () => {
  const base = built[0]?.json as { panels: Array<Record<string, unknown> & { targets?: Array<Record<string, unknown>> }>; templating: { list: Array<Record<string, unknown>> } };
  it.each<[string, (d: typeof base) => void]>([
    ['a query on another datasource', (d) => { (d.panels[0]?.targets?.[0] as Record<string, unknown>).datasource = { type: 'influxdb', uid: 'other' }; }],
    ['a builder-mode (non-raw) query', (d) => { (d.panels[0]?.targets?.[0] as Record<string, unknown>).rawQuery = false; }],
    ['an undefined template variable', (d) => { (d.panels[0]?.targets?.[0] as Record<string, unknown>).query = 'SELECT last("moisture") FROM "soil" WHERE "zone" =~ /^$zone$/'; }],
    ['a panel off the grid', (d) => { (d.panels[0] as Record<string, unknown>).gridPos = { h: 4, w: 12, x: 18, y: 0 }; }],
    ['duplicate panel ids', (d) => { (d.panels[1] as Record<string, unknown>).id = d.panels[0]?.id; }],
    ['duplicate refIds in a panel', (d) => { d.panels[0]?.targets?.push({ ...d.panels[0].targets[0] }); }],
    ['a data panel without queries', (d) => { (d.panels[0] as Record<string, unknown>).targets = []; }],
    ['a variable that is not SHOW TAG VALUES', (d) => { (d.templating.list[0] as Record<string, unknown>).query = 'SELECT * FROM "soil"'; }],
  ])('refuses %s', (_what, breakIt) => {
    const d = clone(base);
    breakIt(d);
    expect(DashboardJson.safeParse(d).success).toBe(false);
    expect(DashboardJson.safeParse(base).success).toBe(true);
  });
});
