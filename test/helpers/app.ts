import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { Config } from '../../config/config.ts';
import { createLogger } from '../../lib/logger.ts';
import { startApp, type App } from '../../app.ts';
import { createInfluxHttp, type InfluxHttp } from '../../influx/http.ts';
import { influxTarget } from '../../app/influxdb.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** For stream and durability tests: a device may publish far above the per-device rate limit. */
export const UNLIMITED = { mqttPublishRatePerS: 100_000, mqttPublishBurst: 100_000 } as const;

export interface TestApp {
  app: App;
  influx: InfluxHttp;
  dataDir: string;
  config: Config;
  stop(): Promise<void>;
  /** Register a device through the API; returns its secret. */
  register(body: Record<string, unknown>): Promise<string>;
}

let counter = 0;

/** A fresh database name per app, so test files never see each other's points. */
export function uniqueDb(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`.replace(/[^A-Za-z0-9_]/g, '_');
}

/** Start the whole app on free ports against the run's influxd, with its own data dir and database. */
export async function startTestApp(
  overrides: Partial<Record<keyof Config, unknown>> = {},
  options: { dataDir?: string; app?: Parameters<typeof startApp>[2]; logger?: Parameters<typeof startApp>[1] } = {},
): Promise<TestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'gs-app-'));
  const config = Config.parse({
    mqttHost: '127.0.0.1',
    mqttPort: 0,
    httpHost: '127.0.0.1',
    httpPort: 0,
    influxUrl: inject('influxUrl'),
    influxDb: uniqueDb('t'),
    managedInfluxd: 'never',
    dataDir,
    adminToken: ADMIN_TOKEN,
    logLevel: process.env.GS_TEST_LOG ?? 'silent',
    writeFlushMs: 50,
    ...overrides,
  });
  const app = await startApp(config, options.logger ?? createLogger(config.logLevel), options.app);
  // Queries as the app makes them: on the v2 API, with its token, on the DBRP database.
  const influx = createInfluxHttp(influxTarget(config));
  return {
    app,
    influx,
    dataDir,
    config,
    async stop() {
      await app.stop({ drainMs: 2_000 });
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    async register(body) {
      const res = await app.api.inject({ method: 'POST', url: '/api/v1/devices', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: body });
      if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`);
      return (res.json() as { secret: string }).secret;
    },
  };
}

/** Poll until `check` returns a value that is not undefined, or fail after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 5_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Rows of one InfluxQL query as objects. */
export async function queryRows(influx: InfluxHttp, q: string): Promise<Array<Record<string, unknown>>> {
  // Nothing written to the test's database yet: it does not exist, and it holds no rows.
  const [series = []] = await influx.query(q).catch((error: Error) => (/database not found/i.test(error.message) ? [] : Promise.reject(error)));
  return series.flatMap((s) => s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })));
}

export async function countPoints(influx: InfluxHttp, measurement: string, field: string): Promise<number> {
  const rows = await queryRows(influx, `SELECT count("${field}") FROM "${measurement}"`).catch(() => []);
  return Number(rows[0]?.count ?? 0);
}
