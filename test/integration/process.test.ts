import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { freePort, startInfluxd } from '../../influx/influxd-process.ts';
import { createInfluxHttp } from '../../influx/http.ts';
import { ADMIN_TOKEN, countPoints, eventually, uniqueDb } from '../helpers/app.ts';
import { connect, publish } from '../helpers/mqtt.ts';
import { spawnApp, type AppProcess } from '../helpers/process-app.ts';
import { LOCK_FILE } from '../../lib/data-dir-lock.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function run(env: Record<string, string>): Promise<AppProcess & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gs-proc-'));
  const app = await spawnApp({ GS_MQTT_PORT: '0', GS_MQTT_HOST: '127.0.0.1', GS_HTTP_PORT: '0', GS_HTTP_HOST: '127.0.0.1', GS_DATA_DIR: dataDir, GS_ADMIN_TOKEN: ADMIN_TOKEN, GS_WRITE_FLUSH_MS: '50', ...env });
  cleanups.push(async () => {
    if (app.child.exitCode === null && app.child.signalCode === null) {
      app.child.kill('SIGKILL');
      await app.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { ...app, dataDir };
}

async function registerAndPublish(app: AppProcess, n: number): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${app.httpPort}/api/v1/devices`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'soil-p1', kind: 'soil', place: { district: 'd', community: 'c', zone: 'z' } }),
  });
  const { secret } = (await res.json()) as { secret: string };
  const client = await connect(app.mqttPort, { clientId: 'soil-p1', username: 'soil-p1', password: secret });
  const base = Date.now() - 60_000;
  for (let seq = 0; seq < n; seq++) await publish(client, 'gs/soil-p1/up', JSON.stringify({ ts: base + seq, seq, moisture: 30 }), 1);
  client.end();
}

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => { socket.end(); resolve(true); });
    socket.once('error', () => resolve(false));
  });

// Each test starts tsx and the app as a real process: on a loaded 2-core machine that alone can take tens of seconds.
describe('the process', { timeout: 120_000 }, () => {
  it('flushes pending points and exits 0 on SIGTERM', async () => {
    const db = uniqueDb('proc');
    const app = await run({ GS_INFLUX_URL: inject('influxUrl'), GS_INFLUX_DB: db, GS_MANAGED_INFLUXD: 'never', GS_WRITE_FLUSH_MS: '60000' });
    await registerAndPublish(app, 50); // a 60 s flush interval: only the shutdown sends them
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    expect(await countPoints(createInfluxHttp({ url: inject('influxUrl'), db }), 'soil', 'moisture')).toBe(50);
    expect(app.output()).toMatch(/"msg":"greenspace stopped"/);
  });

  it('takes a signal relayed twice (Ctrl-C under npm) as one stop: the drain completes and it exits 0', async () => {
    const app = await run({ GS_INFLUX_URL: inject('influxUrl'), GS_INFLUX_DB: uniqueDb('twice'), GS_MANAGED_INFLUXD: 'never' });
    await registerAndPublish(app, 5);
    app.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 30));
    app.child.kill('SIGINT');
    expect(await app.exited).toBe(0);
    expect(app.output()).toContain('"greenspace stopped"');
    expect(app.output()).not.toContain('second signal');
  });

  it('a failed start stops the managed influxd it had started and names the busy port\'s setting', async () => {
    const influxPort = await freePort();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => holder.close(() => resolve())));
    const httpPort = (holder.address() as { port: number }).port;
    const dataDir = mkdtempSync(join(tmpdir(), 'gs-proc-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const failed = await spawnApp({ GS_MQTT_PORT: '0', GS_MQTT_HOST: '127.0.0.1', GS_HTTP_PORT: String(httpPort), GS_HTTP_HOST: '127.0.0.1', GS_DATA_DIR: dataDir, GS_INFLUX_URL: `http://127.0.0.1:${influxPort}`, GS_INFLUX_DB: 'managed' }, 60_000)
      .then(() => 'started', (error: Error) => error.message);
    expect(failed).toMatch(/exited \(1\) before starting/);
    expect(failed).toMatch(/starting a managed influxd/);
    expect(failed).toContain(`greenspace failed to start: GS_HTTP_PORT ${httpPort} is in use on 127.0.0.1: another process listens there; stop it or set GS_HTTP_PORT to a free port`);
    expect(failed).not.toMatch(/\n\s+at /); // no stack trace for a known cause
    expect(await portOpen(influxPort)).toBe(false);
  });

  it('logs the ports it bound as JSON fields', async () => {
    const app = await run({ GS_INFLUX_URL: inject('influxUrl'), GS_MANAGED_INFLUXD: 'never' });
    const line = app.output().split('\n').find((l) => l.includes('"greenspace started"'))!;
    expect(JSON.parse(line)).toMatchObject({ mqttPort: app.mqttPort, httpPort: app.httpPort });
    expect(app.mqttPort).toBeGreaterThan(0);
  });

  it('starts a managed influxd when none answers, and stops it on exit', async () => {
    const port = await freePort();
    const app = await run({ GS_INFLUX_URL: `http://127.0.0.1:${port}`, GS_INFLUX_DB: 'managed' });
    expect(app.output()).toMatch(/starting a managed influxd/);
    await registerAndPublish(app, 5);
    await eventually(async () => ((await countPoints(createInfluxHttp({ url: `http://127.0.0.1:${port}`, db: 'managed' }), 'soil', 'moisture')) === 5 ? true : undefined), 10_000);
    app.child.kill('SIGINT');
    expect(await app.exited).toBe(0);
    expect(await portOpen(port)).toBe(false);
  });

  it('without InfluxDB or influxd: says how to install it, keeps accepting readings, and sends them once InfluxDB appears', async () => {
    const port = await freePort();
    const app = await run({ GS_INFLUX_URL: `http://127.0.0.1:${port}`, GS_INFLUXD_BINARY: '/nonexistent/influxd', GS_INFLUX_DB: 'later', GS_WRITE_RETRY_MAX_MS: '300' });
    expect(app.output()).toMatch(/apt-get install -y influxdb/);
    await registerAndPublish(app, 20); // acknowledged: durable on disk
    const ready = await fetch(`http://127.0.0.1:${app.httpPort}/readyz`);
    expect(ready.status).toBe(503);
    const dir = mkdtempSync(join(tmpdir(), 'gs-late-influxd-'));
    const influxd = await startInfluxd({ dir, port });
    cleanups.push(async () => { await influxd.stop(); rmSync(dir, { recursive: true, force: true }); });
    await eventually(async () => ((await countPoints(createInfluxHttp({ url: influxd.url, db: 'later' }), 'soil', 'moisture')) === 20 ? true : undefined), 10_000);
  });

  it('keeps a second process off a data directory the first holds, naming it and its pid; takes over the lock of one killed with -9', async () => {
    const env = { GS_INFLUX_URL: inject('influxUrl'), GS_INFLUX_DB: uniqueDb('lock'), GS_MANAGED_INFLUXD: 'never' };
    const first = await run(env);
    const base = { GS_MQTT_PORT: '0', GS_MQTT_HOST: '127.0.0.1', GS_HTTP_PORT: '0', GS_HTTP_HOST: '127.0.0.1', GS_DATA_DIR: first.dataDir, GS_ADMIN_TOKEN: ADMIN_TOKEN, ...env };
    const second = await spawnApp(base, 60_000).then((app) => { app.child.kill('SIGKILL'); return 'started'; }, (error: Error) => error.message);
    expect(second).toMatch(/exited \(1\) before starting/);
    expect(second).toContain(`greenspace failed to start: data directory ${first.dataDir} is in use by pid ${first.child.pid} (server, http://127.0.0.1:${first.httpPort}) since`);
    expect(second).not.toMatch(/\n\s+at /); // a known cause: no stack trace
    expect(first.child.exitCode).toBeNull(); // the holder carries on
    expect((await fetch(`http://127.0.0.1:${first.httpPort}/healthz`)).status).toBe(200);

    first.child.kill('SIGKILL'); // no release: the lock file stays, naming a dead pid
    await first.exited;
    expect(JSON.parse(readFileSync(join(first.dataDir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: first.child.pid });
    const third = await spawnApp(base, 60_000);
    cleanups.push(async () => { third.child.kill('SIGKILL'); await third.exited; });
    expect(JSON.parse(readFileSync(join(first.dataDir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: third.child.pid, holder: 'server' });
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  });

  it('refuses a bad notification config file the same way', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gs-proc-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const file = join(dataDir, 'notify.yaml');
    writeFileSync(file, 'retentionDays: -3\n');
    await expect(spawnApp({ GS_DATA_DIR: dataDir, GS_NOTIFY_CONFIG: file, GS_MANAGED_INFLUXD: 'never' }, 60_000)).rejects.toThrow(/exited \(2\)[\s\S]*notify.yaml: retentionDays: /);
  });

  it('refuses a bad rules config file, listing its problems with those of the other settings in one run', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gs-proc-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const file = join(dataDir, 'rules.yaml');
    writeFileSync(file, 'facilityHealth:\n  byType:\n    pavilion: { warningDeg: 6 }\n');
    await expect(spawnApp({ GS_DATA_DIR: dataDir, GS_RULES_CONFIG: file, GS_MQTT_PORT: 'eighty', GS_MANAGED_INFLUXD: 'never' }, 60_000)).rejects.toThrow(
      /exited \(2\)[\s\S]*GS_MQTT_PORT: expected a port number[\s\S]*rules.yaml: facilityHealth.byType.pavilion: warningDeg \(6\) must be below criticalDeg \(5, the default\)/,
    );
  });

  it('refuses a bad configuration with a specific message and a non-zero exit', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gs-proc-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    await expect(spawnApp({ GS_DATA_DIR: dataDir, GS_MQTT_PORT: 'eighty', GS_INFLUX_URL: 'nope' }, 60_000)).rejects.toThrow(
      /exited \(2\)[\s\S]*GS_MQTT_PORT: expected a port number[\s\S]*GS_INFLUX_URL: expected an http\(s\) URL/,
    );
  });
});
