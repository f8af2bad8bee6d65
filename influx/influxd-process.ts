import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createInfluxHttp } from './http.ts';
import { findBinary } from '../lib/find-binary.ts';
import { superviseServer } from '../lib/server-process.ts';

export const INSTALL_HINT =
  'InfluxDB is not installed. On Debian/Ubuntu, as root: apt-get update && apt-get install -y influxdb ' +
  '(or run ./scripts/setup.sh). Or point GS_INFLUX_URL at a running InfluxDB 1.x, 2.x (v1 API) or 3.x.';

/** The influxd binary on PATH (Debian's `influxdb` package installs /usr/bin/influxd), if any. */
export const findInfluxd = (configured?: string): string | undefined => findBinary('influxd', configured);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface InfluxdHandle {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Run an influxd (1.x) bound to loopback with everything under `dir`: the embedded
 * default of `npm start`, and the throwaway server of the test suite. Every listener is
 * on 127.0.0.1; anonymous usage reporting is off.
 */
export async function startInfluxd(options: { dir: string; port: number; binary?: string; startTimeoutMs?: number }): Promise<InfluxdHandle> {
  const binary = options.binary ?? findInfluxd();
  if (!binary) throw new Error(INSTALL_HINT);
  mkdirSync(options.dir, { recursive: true });
  const rpcPort = await freePort();
  const conf = `reporting-enabled = false
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(options.dir, 'meta')}"
  logging-enabled = false
[data]
  dir = "${join(options.dir, 'data')}"
  wal-dir = "${join(options.dir, 'wal')}"
  query-log-enabled = false
  index-version = "inmem"
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:${options.port}"
  log-enabled = false
  pprof-enabled = false
[logging]
  level = "warn"
  suppress-logo = true
[continuous_queries]
  log-enabled = false
`;
  const confPath = join(options.dir, 'influxdb.conf');
  writeFileSync(confPath, conf);
  const logFd = openSync(join(options.dir, 'influxd.log'), 'a');
  const child: ChildProcess = spawn(binary, ['-config', confPath], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd); // the child holds its own copy of the descriptor
  const url = `http://127.0.0.1:${options.port}`;
  const http = createInfluxHttp({ url, db: '_' });
  const server = superviseServer(child, 'influxd');
  await server.untilAnswering(() => http.ping(), { where: url, timeoutMs: options.startTimeoutMs ?? 30_000, seeMore: () => `see ${join(options.dir, 'influxd.log')}`, pollMs: 100 });

  return {
    url,
    pid: child.pid,
    stop: (): Promise<void> => server.stopWith('SIGTERM'),
  };
}
