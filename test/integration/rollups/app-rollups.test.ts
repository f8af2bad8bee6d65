import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createInfluxHttp } from '../../../influx/http.ts';
import { toLine } from '../../../influx/line-protocol.ts';
import { eventually, queryRows, startTestApp, uniqueDb, type TestApp } from '../../helpers/app.ts';

const HOUR = 3_600_000;

/** The rollups as the app runs them: its timer, its cursor, its durable log, its /metrics. */
describe('the rollups feature in the app', () => {
  let t: TestApp;
  const hour = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;

  beforeAll(async () => {
    // The raw points are in InfluxDB before the app starts: its first run may come within 100 ms.
    const influx = createInfluxHttp({ url: inject('influxUrl'), db: uniqueDb('app_rollups') });
    await influx.createDatabase();
    const soil = (ts: number, moisture: number) => toLine('soil', { district: 'north', community: 'c-001', zone: 'z1', device: 'd1' }, { moisture }, ts);
    expect((await influx.write([soil(hour + 60_000, 30), soil(hour + 120_000, 40)].join('\n'))).kind).toBe('ok');
    // Retention 2 days: the first run starts two days back, so the test waits for a few steps, not 400 days of them.
    t = await startTestApp({ rawRetentionDays: 2, influxDb: influx.target.db }, { app: { rollups: { intervalMs: 100 } } });
  });
  afterAll(() => t?.stop());

  it('rolls complete hours up through the durable log and reports it in /metrics', async () => {
    const rows = await eventually(async () => {
      const found = await queryRows(t.influx, `SELECT moisture_mean, moisture_count FROM soil_1h WHERE time >= ${hour}ms`).catch(() => []);
      return found.length > 0 ? found : undefined;
    }, 20_000, 'the hourly rollup');
    expect(rows).toEqual([{ time: hour, moisture_mean: 35, moisture_count: 2 }]);
    const metrics = await t.app.api.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/gs_rollup_windows_written_total\{resolution="1h"\} [1-9]/);
    expect(metrics.body).toMatch(/gs_rollup_lag_seconds\{resolution="1h"\} \d/);
  });
});
