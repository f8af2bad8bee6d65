import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startApp, type App } from '../../../app.ts';
import { BOARDS } from '../../../dashboards/boards/index.ts';
import { collectQueries, DashboardJson } from '../../../dashboards/dashboard-schema.ts';
import { Config } from '../../../config/config.ts';
import { createInfluxHttp, type InfluxHttp } from '../../../influx/http.ts';
import { createLogger } from '../../../lib/logger.ts';
import { ADMIN_TOKEN, eventually, queryRows, uniqueDb } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { proveQuery } from './prove-query.ts';

/**
 * The running app writes `ingest_stats` on its own, and the Ingest dashboard's queries
 * return series on what it wrote (not only on seeded points).
 */
describe('ingest statistics written by the running app', () => {
  let app: App;
  let influx: InfluxHttp;
  let dataDir: string;
  const startedAt = Date.now();

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gs-app-'));
    const config = Config.parse({
      mqttHost: '127.0.0.1', mqttPort: 0, httpHost: '127.0.0.1', httpPort: 0, influxUrl: inject('influxUrl'), influxDb: uniqueDb('stats'),
      managedInfluxd: 'never', dataDir, adminToken: ADMIN_TOKEN, logLevel: process.env.GS_TEST_LOG ?? 'silent', writeFlushMs: 50,
    });
    app = await startApp(config, createLogger(config.logLevel), { ingestStatsIntervalMs: 200 });
    influx = createInfluxHttp({ url: config.influxUrl, db: config.influxDb });
  });
  afterAll(async () => {
    await app?.stop({ drainMs: 2_000 });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts messages, readings and rejects per reason, and the Ingest dashboard shows them', async () => {
    const res = await app.api.inject({ method: 'POST', url: '/api/v1/devices', headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: { id: 'soil-stats', kind: 'soil', place: { district: 'north', community: 'c-1', zone: 'z-1' } } });
    const { secret } = res.json() as { secret: string };
    const client = await connect(app.mqttPort, { clientId: 'soil-stats', username: 'soil-stats', password: secret });
    for (let seq = 1; seq <= 5; seq++) await publish(client, 'gs/soil-stats/up', JSON.stringify({ seq, moisture: 20 + seq }), 1);
    await publish(client, 'gs/soil-stats/up', '{not json', 1);
    client.end();

    const totals = await eventually(async () => {
      const [row] = await queryRows(influx, 'SELECT sum("messages_per_s") AS m, sum("rejected_malformed_json") AS bad, sum("points_per_s") AS p FROM "ingest_stats"');
      return row && Number(row.bad) >= 1 && Number(row.p) > 0 ? row : undefined;
    }, 10_000, 'ingest_stats points with the refused message');
    expect(Number(totals.m)).toBeGreaterThan(0);

    const ingest = DashboardJson.parse(JSON.parse(JSON.stringify(BOARDS.find((b) => b.file === 'ingest.json')?.build())));
    for (const q of collectQueries(ingest)) {
      const proof = await proveQuery(influx, q.query, {
        fromMs: startedAt - 60_000, toMs: Date.now() + 60_000, intervalMs: 1_000,
        variables: { instance: { selected: 'all', allValue: '.*' } },
      });
      expect(proof.failures, `${q.where}: ${proof.expanded}`).toEqual([]);
    }
  });
});
