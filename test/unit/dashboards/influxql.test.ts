import { describe, expect, it } from 'vitest';
import { MEASUREMENTS } from '../../../contracts/influx-schema.ts';
import { REJECT_REASONS } from '../../../contracts/rejects.ts';
import { checkQuery, on, showTagValues } from '../../../dashboards/influxql.ts';

describe('typed InfluxQL helpers', () => {
  it('quote names from the schema and build filters for template variables', () => {
    const soil = on('soil');
    expect(soil.from).toBe('"soil"');
    expect(soil.f('moisture')).toBe('"moisture"');
    expect(soil.match('zone', 'zone')).toBe('"zone" =~ /^$zone$/');
    expect(soil.is('plant', "it's")).toBe(`"plant" = 'it\\'s'`);
    expect(soil.by('community', 'zone')).toBe('"community", "zone"');
    expect(on('soil', 'tilt').from).toBe('"soil", "tilt"');
    expect(showTagValues(['soil'], 'zone', [{ tag: 'community', variable: 'community' }])).toBe('SHOW TAG VALUES FROM "soil" WITH KEY = "zone" WHERE "community" =~ /^$community$/');
  });

  it('do not compile with a name the writers do not produce', () => {
    // Each line below is a compile error; `tsc --noEmit` (npm test) fails if one starts compiling.
    // @ts-expect-error: not a measurement
    expect(() => on('soils')).toThrow();
    // @ts-expect-error: a tilt field, not a soil field
    expect(on('soil').f('pitch')).toBe('"pitch"');
    // @ts-expect-error: soil has a zone, tilt does not: not common to both
    expect(on('soil', 'tilt').t('zone')).toBe('"zone"');
    // @ts-expect-error: no such tag
    expect(on('alert').match('team', 'team')).toBe('"team" =~ /^$team$/');
  });

  it('lists one ingest_stats field per reject reason', () => {
    const fields: readonly string[] = MEASUREMENTS.ingest_stats.fields;
    expect(fields.filter((f) => f.startsWith('rejected_')).sort()).toEqual(REJECT_REASONS.map((r) => `rejected_${r}`).sort());
  });
});

describe('checkQuery', () => {
  it.each([
    ['SELECT mean("moisture") FROM "soil" WHERE "zone" =~ /^$zone$/ AND $timeFilter GROUP BY time($__interval), "zone"', []],
    ['SELECT count(m) FROM (SELECT last("moisture") AS m FROM "soil" GROUP BY "zone") WHERE m < 20', []],
    ['SHOW TAG VALUES FROM "soil", "tilt" WITH KEY = "community"', []],
    // Literals are not identifiers: a quoted word inside a string or regex is ignored.
    [`SELECT "message" FROM "alert" WHERE "message" = 'say "hello"' AND "subject" =~ /"x"/`, []],
    ['SELECT max("tilt") FROM "tilt" GROUP BY "facility_type", time', []],
    ['SELECT mean("moisture") FROM "soils"', [{ problem: 'unknown_measurement', name: 'soils' }, { problem: 'unknown_name', name: 'moisture' }]],
    ['SELECT mean("moist") FROM "soil"', [{ problem: 'unknown_name', name: 'moist' }]],
    ['SELECT mean("moisture") FROM "soil" GROUP BY "facility"', [{ problem: 'unknown_name', name: 'facility' }]],
    ['SELECT count(s) FROM (SELECT last("state") AS s FROM "alert" GROUP BY "team")', [{ problem: 'unknown_name', name: 'team' }]],
    ['SELECT 1', [{ problem: 'no_measurement', name: '' }]],
    // A negated regex is a literal too.
    [`SELECT "message" FROM "alert" WHERE "subject" !~ /"x"/ AND "kind" !~ /^(battery_low|"y")$/`, []],
    // Every FROM of a query counts, not only the first: each statement names its own measurement's fields.
    ['SELECT last("moisture") FROM "soil" GROUP BY "zone"; SELECT max("shock") FROM "tilt" GROUP BY "facility"', []],
    ['SELECT count(m) FROM (SELECT last("moisture") AS m FROM "soil"), (SELECT last("tilt") AS m FROM "tilt" GROUP BY "facility")', []],
    ['SELECT last("moisture") FROM "soil"; SELECT max("shock") FROM "tilts"', [{ problem: 'unknown_measurement', name: 'tilts' }, { problem: 'unknown_name', name: 'shock' }]],
  ])('%s', (query, problems) => {
    expect(checkQuery(query)).toEqual(problems);
  });
});
