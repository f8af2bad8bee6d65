import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createInfluxHttp, type InfluxHttp } from '../../../influx/http.ts';
import { toLine } from '../../../influx/line-protocol.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { openDb, type Db } from '../../../registry/db.ts';
import { createRollupCursor } from '../../../rollups/cursor.ts';
import { startRollups, type RollupOptions } from '../../../rollups/start.ts';
import { uniqueDb } from '../../helpers/app.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The day the raw points fall on; the runs happen two and a half days later. */
const D = Date.UTC(2026, 10, 8);
const NOW = D + 2 * DAY + 12 * HOUR;
const Z1 = { district: 'north', community: 'c-001', zone: 'c-001-z1', plant: 'lawn' };

const soil = (device: string, ts: number, fields: Record<string, number>) => toLine('soil', { ...Z1, device }, fields, ts);
const RAW = [
  soil('d1', D + 10 * 60_000, { moisture: 20, temperature: 15.5 }),
  soil('d1', D + 40 * 60_000, { moisture: 30 }),
  soil('d1', D + HOUR + 20 * 60_000, { moisture: 10 }),
  soil('d2', D + 30 * 60_000, { moisture: 50 }),
  toLine('tilt', { district: 'north', community: 'c-001', facility: 'f-1', facility_type: 'pavilion', device: 't1' }, { tilt: 1.5 }, D + 5 * 60_000),
  toLine('tilt', { district: 'north', community: 'c-001', facility: 'f-1', facility_type: 'pavilion', device: 't1' }, { tilt: 2.5 }, D + 50 * 60_000),
  // The day after: kept by a one-day retention on the run's day.
  soil('d1', D + DAY + 6 * HOUR, { moisture: 40 }),
];

type Row = Record<string, unknown>;

describe('rollups and raw retention on the real influxd', () => {
  let influx: InfluxHttp;
  let db: Db;
  let dir: string;
  const clock = createManualClock(NOW);
  const logger = createLogger('silent');
  let down = false;
  // The roller's InfluxDB, which can be "down" (refused connection) for the outage test.
  const flaky = { query: (q: string) => (down ? Promise.reject(new Error('connect ECONNREFUSED')) : influx.query(q)) };
  const append = async (lines: string[]): Promise<void> => {
    const outcome = await influx.write(lines.join('\n'));
    if (outcome.kind !== 'ok') throw new Error(`write ${outcome.kind}`);
  };
  const roller = (options: Partial<RollupOptions> = {}) =>
    startRollups({ db, influx: flaky, append, clock, logger, registry: new Registry(), options: { retentionDays: 0, schedule: false, ...options } });

  async function rows(q: string): Promise<Row[]> {
    const [series = []] = await influx.query(q);
    return series.flatMap((s) => s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })));
  }

  beforeAll(async () => {
    influx = createInfluxHttp({ url: inject('influxUrl'), db: uniqueDb('rollups') });
    await influx.createDatabase();
    expect((await influx.write(RAW.join('\n'))).kind).toBe('ok');
    dir = mkdtempSync(join(tmpdir(), 'gs-rollups-'));
    db = openDb(join(dir, 'registry.db'));
  });
  afterAll(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function startAt(ms: number): void {
    const cursor = createRollupCursor(db);
    cursor.set('1h', ms);
    cursor.set('1d', ms);
  }

  it('writes hourly and daily mean/min/max/count per series, exactly', async () => {
    startAt(D - DAY);
    const r = roller();
    await r.runOnce();
    const hourly = 'SELECT moisture_mean, moisture_min, moisture_max, moisture_count, temperature_mean, temperature_min, temperature_max, temperature_count FROM soil_1h GROUP BY *';
    const none = { temperature_mean: null, temperature_min: null, temperature_max: null, temperature_count: null };
    expect(await rows(hourly)).toEqual([
      { ...Z1, device: 'd1', time: D, moisture_mean: 25, moisture_min: 20, moisture_max: 30, moisture_count: 2, temperature_mean: 15.5, temperature_min: 15.5, temperature_max: 15.5, temperature_count: 1 },
      { ...Z1, device: 'd1', time: D + HOUR, moisture_mean: 10, moisture_min: 10, moisture_max: 10, moisture_count: 1, ...none },
      { ...Z1, device: 'd1', time: D + DAY + 6 * HOUR, moisture_mean: 40, moisture_min: 40, moisture_max: 40, moisture_count: 1, ...none },
      { ...Z1, device: 'd2', time: D, moisture_mean: 50, moisture_min: 50, moisture_max: 50, moisture_count: 1, ...none },
    ]);
    expect(await rows('SELECT moisture_mean, moisture_min, moisture_max, moisture_count FROM soil_1d GROUP BY *')).toEqual([
      { ...Z1, device: 'd1', time: D, moisture_mean: 20, moisture_min: 10, moisture_max: 30, moisture_count: 3 },
      { ...Z1, device: 'd1', time: D + DAY, moisture_mean: 40, moisture_min: 40, moisture_max: 40, moisture_count: 1 },
      { ...Z1, device: 'd2', time: D, moisture_mean: 50, moisture_min: 50, moisture_max: 50, moisture_count: 1 },
    ]);
    expect(await rows('SELECT tilt_mean, tilt_min, tilt_max, tilt_count FROM tilt_1h')).toEqual([
      { time: D, tilt_mean: 2, tilt_min: 1.5, tilt_max: 2.5, tilt_count: 2 },
    ]);
    // Complete windows only: the hour that ended 5 minutes (the grace) before now, the day before today.
    expect(r.cursor('1h')).toBe(NOW - HOUR);
    expect(r.cursor('1d')).toBe(NOW - 12 * HOUR);
  });

  it('re-rolling the same windows writes the same points over themselves', async () => {
    const before = await rows('SELECT * FROM soil_1h GROUP BY *');
    const beforeDaily = await rows('SELECT * FROM soil_1d GROUP BY *');
    startAt(D - DAY);
    await roller().runOnce();
    expect(await rows('SELECT * FROM soil_1h GROUP BY *')).toEqual(before);
    expect(await rows('SELECT * FROM soil_1d GROUP BY *')).toEqual(beforeDaily);
  });

  it('after an InfluxDB outage, the backlog is caught up from the cursor in bounded steps', async () => {
    await influx.query('DROP MEASUREMENT soil_1h');
    startAt(D - DAY);
    const r = roller({ maxStepsPerRun: 1 });
    down = true;
    expect((await r.runOnce()).steps).toEqual({ '1h': 0, '1d': 0 });
    expect(r.cursor('1h')).toBe(D - DAY);
    down = false;
    // One step of 24 hours a run: the day before D, D, D+1, and the half day up to now.
    const runs: number[] = [];
    for (let i = 0; i < 6; i++) runs.push((await r.runOnce()).steps['1h']);
    expect(runs).toEqual([1, 1, 1, 1, 0, 0]);
    expect(r.cursor('1h')).toBe(NOW - HOUR);
    expect(await rows('SELECT moisture_mean, moisture_count FROM soil_1h WHERE device = \'d1\'')).toEqual([
      { time: D, moisture_mean: 25, moisture_count: 2 },
      { time: D + HOUR, moisture_mean: 10, moisture_count: 1 },
      { time: D + DAY + 6 * HOUR, moisture_mean: 40, moisture_count: 1 },
    ]);
  });

  it('retention deletes raw points older than the setting, once rolled up; the rollups stay', async () => {
    await roller({ retentionDays: 1 }).runOnce();
    // Cut at the start of the day one day before now (D + 1 day): D's raw points go.
    expect(await rows('SELECT moisture FROM soil')).toEqual([{ time: D + DAY + 6 * HOUR, moisture: 40 }]);
    expect(await rows('SELECT tilt FROM tilt')).toEqual([]);
    expect(await rows('SELECT moisture_mean FROM soil_1d WHERE device = \'d1\'')).toEqual([
      { time: D, moisture_mean: 20 },
      { time: D + DAY, moisture_mean: 40 },
    ]);
    expect((await rows('SELECT moisture_count FROM soil_1h')).length).toBe(4);
    expect((await rows('SELECT tilt_max FROM tilt_1d'))).toEqual([{ time: D, tilt_max: 2.5 }]);
  });

  it('never deletes raw points the daily rollup has not reached, whatever the retention', async () => {
    const extra = soil('d3', D + DAY + 7 * HOUR, { moisture: 33 });
    expect((await influx.write(extra)).kind).toBe('ok');
    createRollupCursor(db).set('1d', D + DAY);
    // Retention 1 day would cut at D + 1 day; the cursor is there too, so D + 1's points stay.
    clock.set(NOW + 5 * DAY);
    const r = roller({ retentionDays: 1, maxStepsPerRun: 0 });
    expect((await r.runOnce()).retainedFromMs).toBe(D + DAY);
    expect((await rows('SELECT moisture FROM soil')).length).toBe(2);
    clock.set(NOW);
  });

  it('a server that refuses DELETE (2.x, 3.x) is counted and asked again an hour later, not every run', async () => {
    const registry = new Registry();
    let deletes = 0;
    const refusing = { query: (q: string) => (q.startsWith('DELETE') ? (deletes++, Promise.reject(new Error('InfluxQL 400: not implemented'))) : influx.query(q)) };
    const r = startRollups({ db, influx: refusing, append, clock, logger, registry, options: { retentionDays: 1, schedule: false } });
    await r.runOnce();
    await r.runOnce();
    expect(deletes).toBe(1);
    expect(await registry.getSingleMetricAsString('gs_rollup_failures_total')).toContain('gs_rollup_failures_total{stage="retention"} 1');
    clock.advance(HOUR);
    await r.runOnce();
    expect(deletes).toBe(2);
    clock.set(NOW);
  });
});
