import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createInfluxHttp } from '../../influx/http.ts';
import { ADMIN_TOKEN, countPoints, eventually, uniqueDb } from '../helpers/app.ts';
import { connect, publish } from '../helpers/mqtt.ts';
import { spawnApp } from '../helpers/process-app.ts';
import { runToExit } from '../helpers/run.ts';
import { ROOT } from './inventory/run-cli.ts';

const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true, recursive: true })
  .filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));

/** `npm run build` then `npm run start:prod`: the service as it runs in production, without a TypeScript compiler. */
describe('the compiled build', { timeout: 300_000 }, () => {
  let out: string;
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'gs-build-'));
    const tsc = await runToExit(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], { cwd: ROOT });
    expect(tsc, tsc.stdout).toMatchObject({ code: 0 });
    const assets = await runToExit(process.execPath, [join(ROOT, 'scripts/copy-build-assets.mjs'), out], { cwd: ROOT });
    expect(assets.code, assets.stderr).toBe(0);
    symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
  }, 300_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('holds JavaScript, the migrations and the preload; no TypeScript and no tsx boot files', () => {
    const built = files(out).filter((f) => !f.startsWith('node_modules'));
    expect(built.filter((f) => f.endsWith('.ts') || f.endsWith('.mjs'))).toEqual([]);
    expect(built).toContain('main.js');
    expect(built).toContain('cli.js');
    expect(built).toContain(join('durable-log', 'shipper-worker.js'));
    expect(built).toContain(join('inventory', 'parse-worker.js'));
    expect(built).toContain(join('config', 'threadpool-preload.cjs'));
    expect(built.filter((f) => f.startsWith(join('registry', 'migrations')) && f.endsWith('.sql')).length)
      .toBe(readdirSync(join(ROOT, 'registry', 'migrations')).filter((f) => f.endsWith('.sql')).length);
    // The shipped device profiles: the ingest reads them at boot.
    expect(built.filter((f) => f.startsWith(join('ingest', 'profiles')) && f.endsWith('.yaml')).length)
      .toBe(readdirSync(join(ROOT, 'ingest', 'profiles')).filter((f) => f.endsWith('.yaml')).length);
    expect(existsSync(join(out, 'package.json'))).toBe(true);
  });

  it('starts with plain node, stores an acknowledged reading through its shipper thread, and stops cleanly', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gs-prod-'));
    const db = uniqueDb('built');
    const app = await spawnApp({
      GS_MQTT_PORT: '0', GS_MQTT_HOST: '127.0.0.1', GS_HTTP_PORT: '0', GS_HTTP_HOST: '127.0.0.1', GS_DATA_DIR: dataDir,
      GS_ADMIN_TOKEN: ADMIN_TOKEN, GS_INFLUX_URL: inject('influxUrl'), GS_INFLUX_DB: db, GS_MANAGED_INFLUXD: 'never', GS_WRITE_FLUSH_MS: '50',
    }, 120_000, { built: out });
    try {
      const res = await fetch(`http://127.0.0.1:${app.httpPort}/api/v1/devices`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'soil-prod', kind: 'soil', place: { district: 'd', community: 'c', zone: 'z' } }),
      });
      expect(res.status).toBe(201);
      const { secret } = (await res.json()) as { secret: string };
      const client = await connect(app.mqttPort, { clientId: 'soil-prod', username: 'soil-prod', password: secret });
      for (let seq = 0; seq < 3; seq++) await publish(client, 'gs/soil-prod/up', JSON.stringify({ seq, moisture: 30 + seq }), 1);
      client.end();
      const influx = createInfluxHttp({ url: inject('influxUrl'), db });
      await eventually(async () => ((await countPoints(influx, 'soil', 'moisture')) === 3 ? true : undefined), 20_000, 'three points stored');
      // An inventory upload is parsed on the parse worker thread: it must load as compiled JavaScript too.
      const dry = await fetch(`http://127.0.0.1:${app.httpPort}/api/v1/inventory?dryRun=true`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/yaml' },
        body: readFileSync(join(ROOT, 'inventory/examples/demo.yaml'), 'utf8'),
      });
      expect(dry.status, await dry.clone().text()).toBe(200);
      expect(((await dry.json()) as { report: { totals: { inserted: number } } }).report.totals.inserted).toBeGreaterThan(0);
      app.child.kill('SIGTERM');
      expect(await app.exited).toBe(0);
      expect(app.output()).not.toMatch(/"level":50/); // no error logged (a worker that cannot load logs one)
    } finally {
      if (app.child.exitCode === null) app.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
