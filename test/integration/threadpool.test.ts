import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { ADMIN_TOKEN } from '../helpers/app.ts';
import { spawnApp, type AppProcess } from '../helpers/process-app.ts';
import { sleep } from './broker/support.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function run(env: Record<string, string>, options: { preload?: boolean } = {}): Promise<AppProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gs-pool-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const app = await spawnApp({
    GS_MQTT_PORT: '0', GS_MQTT_HOST: '127.0.0.1', GS_HTTP_PORT: '0', GS_HTTP_HOST: '127.0.0.1', GS_DATA_DIR: dataDir, GS_ADMIN_TOKEN: ADMIN_TOKEN,
    GS_INFLUX_URL: inject('influxUrl'), GS_MANAGED_INFLUXD: 'never', ...env,
  }, 20_000, options);
  cleanups.push(async () => {
    app.child.kill('SIGTERM');
    await app.exited;
  });
  return app;
}

/** The process's threads, once the count holds still (a started app's are fixed: the pool, V8's, the shipper's, the loader's). */
async function threads(pid: number): Promise<number> {
  let last = -1;
  for (;;) {
    const now = readdirSync(`/proc/${pid}/task`).length;
    if (now === last) return now;
    last = now;
    await sleep(300);
  }
}

const logged = (app: AppProcess): Record<string, unknown> =>
  JSON.parse(app.output().split('\n').find((l) => l.includes('"libuv thread pool"')) ?? '{}') as Record<string, unknown>;

// Each test starts tsx and the app as a real process: tens of seconds on a loaded 2-core machine.
describe('the libuv thread pool, sized from the configuration before main.ts runs', { timeout: 120_000 }, () => {
  it('gets GS_MQTT_AUTH_CONCURRENCY + 2 threads through the preload: four more than the default pool', async () => {
    const plain = await run({});
    const sized = await run({ GS_MQTT_AUTH_CONCURRENCY: '6' });
    expect(logged(plain)).toMatchObject({ threads: 4, mqttAuthConcurrency: 2 });
    expect(logged(sized)).toMatchObject({ threads: 8, mqttAuthConcurrency: 6 });
    // Counted by the kernel, not by what main.ts believes: the pool really has 8 threads.
    expect(await threads(sized.child.pid!) - await threads(plain.child.pid!)).toBe(4);
  });

  it('leaves an operator\'s own UV_THREADPOOL_SIZE alone', async () => {
    const app = await run({ UV_THREADPOOL_SIZE: '5', GS_MQTT_AUTH_CONCURRENCY: '3' });
    expect(logged(app)).toMatchObject({ threads: 5, mqttAuthConcurrency: 3 });
  });

  it('refuses to start with a pool other than the configured one, when started without the preload', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gs-pool-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    await expect(spawnApp({ GS_DATA_DIR: dataDir, GS_MANAGED_INFLUXD: 'never', GS_THREADPOOL_SIZE: '12' }, 60_000, { preload: false })).rejects.toThrow(
      /exited \(2\)[\s\S]*GS_THREADPOOL_SIZE=12 asks for 12 libuv threads, but this process started libuv's default 4 before main.ts ran: start it with npm start/,
    );
  });

  it('refuses an operator\'s UV_THREADPOOL_SIZE that leaves no thread beside the password checks', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gs-pool-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    await expect(spawnApp({ GS_DATA_DIR: dataDir, GS_MANAGED_INFLUXD: 'never', UV_THREADPOOL_SIZE: '4', GS_MQTT_AUTH_CONCURRENCY: '4' }, 60_000)).rejects.toThrow(
      /exited \(2\)[\s\S]*GS_MQTT_AUTH_CONCURRENCY: 4 must be below the libuv thread pool \(UV_THREADPOOL_SIZE=4: 4 threads\)/,
    );
  });
});
