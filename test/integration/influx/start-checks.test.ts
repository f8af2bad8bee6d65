import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startInfluxV2Standin, type InfluxV2Standin } from '../../../influx/v2-standin.ts';
import { ADMIN_TOKEN } from '../../helpers/app.ts';
import { V2_ORG, V2_TOKEN, V2_TOKENS } from '../../helpers/influx-server.ts';
import { spawnApp } from '../../helpers/process-app.ts';

/**
 * Each InfluxDB setting that does not fit the server stops the start before the broker
 * accepts a reading, with one line naming the setting (main.ts, config/start-failure.ts):
 * the app as a real process against the 2.x stand-in, and against the real 1.6 for the
 * API line mismatch.
 */
describe('InfluxDB settings checked at start', { timeout: 120_000 }, () => {
  let standin: InfluxV2Standin;
  const dirs: string[] = [];
  beforeAll(async () => {
    standin = await startInfluxV2Standin({ upstream: inject('influxUrl'), org: V2_ORG, buckets: ['readings', 'other'], tokens: V2_TOKENS, mappings: { taken_db: 'other' } });
  });
  afterAll(async () => {
    await standin?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const v2 = (env: Record<string, string> = {}): Record<string, string> => ({
    GS_INFLUX_API: 'v2', GS_INFLUX_URL: standin.url, GS_INFLUX_ORG: V2_ORG, GS_INFLUX_BUCKET: 'readings', GS_INFLUX_TOKEN: V2_TOKEN, GS_INFLUX_DB: 'readings_db', ...env,
  });

  async function failedStart(env: Record<string, string>, exitCode = 1): Promise<string> {
    const dataDir = mkdtempSync(join(tmpdir(), 'gs-influx-check-'));
    dirs.push(dataDir);
    const output = await spawnApp({
      GS_MQTT_PORT: '0', GS_MQTT_HOST: '127.0.0.1', GS_HTTP_PORT: '0', GS_HTTP_HOST: '127.0.0.1', GS_DATA_DIR: dataDir, GS_ADMIN_TOKEN: ADMIN_TOKEN, GS_MANAGED_INFLUXD: 'never', ...env,
    }, 60_000).then((app) => {
      app.child.kill('SIGKILL');
      return 'started';
    }, (error: Error) => error.message);
    expect(output).toContain(`exited (${exitCode}) before starting`);
    expect(output).not.toMatch(/"feature":"broker"|mqttPort/); // stopped before the broker existed
    expect(output).not.toMatch(/\n\s+at /); // a known cause: no stack trace
    return /greenspace failed to start: (.*)/.exec(output)?.[1] ?? output;
  }

  it.each([
    ['a wrong token (401)', { GS_INFLUX_TOKEN: 'not-a-token' }, /^GS_INFLUX_TOKEN is not accepted by the server at GS_INFLUX_URL \(InfluxDB v2\.7\.11\) \(401: unauthorized access\): set a valid API token/],
    ['a token that may not write (403)', { GS_INFLUX_TOKEN: 'standin-token-read-only' }, /^GS_INFLUX_TOKEN may not write to bucket "readings" \(403: insufficient permissions for write\)/],
    ['an unknown organisation (404)', { GS_INFLUX_ORG: 'nobody' }, /^GS_INFLUX_ORG "nobody": no such organisation .*\(404: organization name "nobody" not found\)/],
    ['an unknown bucket (404)', { GS_INFLUX_BUCKET: 'nothing' }, /^GS_INFLUX_BUCKET "nothing": no such bucket in organisation "greenspace-org" .*\(404: bucket "nothing" not found\): create it or set GS_INFLUX_BUCKET/],
  ])('%s names the setting', async (_what, env, message) => {
    expect(await failedStart(v2(env))).toMatch(message);
  });

  it('v2 settings missing name each one (a configuration error, exit 2)', async () => {
    const out = await failedStart({ GS_INFLUX_API: 'v2', GS_INFLUX_URL: standin.url }, 2);
    for (const name of ['GS_INFLUX_ORG', 'GS_INFLUX_BUCKET', 'GS_INFLUX_TOKEN']) expect(out).toContain(`  - ${name}: required when GS_INFLUX_API is v2`);
  });

  it('a DBRP database already mapped to another bucket names GS_INFLUX_DB', async () => {
    expect(await failedStart(v2({ GS_INFLUX_DB: 'taken_db' }))).toMatch(/^GS_INFLUX_DB "taken_db" is mapped \(DBRP\) to bucket [0-9a-f]{16}, not to GS_INFLUX_BUCKET "readings"/);
  });

  it('without the right to create the DBRP mapping, starts and says exactly what to create', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gs-influx-check-'));
    dirs.push(dataDir);
    const app = await spawnApp({
      GS_MQTT_PORT: '0', GS_MQTT_HOST: '127.0.0.1', GS_HTTP_PORT: '0', GS_HTTP_HOST: '127.0.0.1', GS_DATA_DIR: dataDir, GS_ADMIN_TOKEN: ADMIN_TOKEN,
      ...v2({ GS_INFLUX_TOKEN: 'standin-token-write-only', GS_INFLUX_DB: 'unmapped_db' }),
    });
    app.child.kill('SIGTERM');
    await app.exited;
    const bucketId = /--bucket-id ([0-9a-f]{16})/.exec(app.output())?.[1];
    expect(bucketId).toMatch(/^[0-9a-f]{16}$/);
    expect(app.output()).toContain(`no DBRP mapping for GS_INFLUX_DB "unmapped_db" → bucket "readings": the token may not create it (401: write:orgs/`);
    expect(app.output()).toContain(`influx v1 dbrp create --org ${V2_ORG} --bucket-id ${bucketId} --db unmapped_db --rp autogen --default`);
    expect(standin.mappings().map((m) => m.database)).toEqual(['taken_db']);
  });

  it('a 1.x server given v2 names GS_INFLUX_API', async () => {
    expect(await failedStart(v2({ GS_INFLUX_URL: inject('influxUrl') }))).toMatch(/^GS_INFLUX_API=v2 but the server at GS_INFLUX_URL \(InfluxDB 1\.\d+\.\d+\S*\) is 1\.x, which has no \/api\/v2\/write: set GS_INFLUX_API=v1/);
  });

  it('a 2.x server given v1 without its compatibility API names GS_INFLUX_API', async () => {
    expect(await failedStart({ GS_INFLUX_URL: standin.url, GS_INFLUX_DB: 'unmapped' })).toMatch(/^GS_INFLUX_API=v1 but the server at GS_INFLUX_URL \(InfluxDB v2\.7\.11\) is 2\.x or later and its v1 compatibility API refused a write to database "unmapped" \(401: unauthorized access\): set GS_INFLUX_API=v2/);
  });
});
