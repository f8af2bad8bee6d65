import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { findBinary } from '../lib/find-binary.ts';
import { superviseServer } from '../lib/server-process.ts';

export const REDIS_INSTALL_HINT =
  'redis-server is not installed. On Debian/Ubuntu, as root: apt-get update && apt-get install -y redis-server ' +
  '(only the clustered mode, GS_CLUSTER=redis, and its tests need it; the one-process default does not).';

/** The redis-server binary (Debian's `redis-server` package installs /usr/bin/redis-server), if any. */
export const findRedisServer = (configured?: string): string | undefined => findBinary('redis-server', configured);

export interface RedisServerHandle {
  url: string;
  port: number;
  pid: number | undefined;
  /** Stop it: SIGTERM, SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** Stop it at once, as a crash would (kill -9). */
  kill(): Promise<void>;
}

/** One PING over a raw socket: true when a Redis answers +PONG on 127.0.0.1:port. */
export function pingRedis(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString('latin1').startsWith('+PONG')));
  });
}

/**
 * A throwaway redis-server bound to loopback with everything under `dir` (the tests' and
 * benchmarks' shared Redis for the clustered mode): no persistence to disk, no protected
 * mode needed since it listens on 127.0.0.1 only.
 */
export async function startRedisServer(options: { dir: string; port: number; binary?: string; startTimeoutMs?: number }): Promise<RedisServerHandle> {
  const binary = options.binary ?? findRedisServer();
  if (!binary) throw new Error(REDIS_INSTALL_HINT);
  mkdirSync(options.dir, { recursive: true });
  const conf = [
    `port ${options.port}`, 'bind 127.0.0.1', `dir ${options.dir}`, 'save ""', 'appendonly no', 'daemonize no',
    `logfile ${join(options.dir, 'redis.log')}`, 'loglevel warning',
  ].join('\n');
  const confPath = join(options.dir, 'redis.conf');
  writeFileSync(confPath, `${conf}\n`);
  const child: ChildProcess = spawn(binary, [confPath], { stdio: 'ignore' });
  const server = superviseServer(child, 'redis-server');
  await server.untilAnswering(() => pingRedis(options.port), { where: `127.0.0.1:${options.port}`, timeoutMs: options.startTimeoutMs ?? 15_000, seeMore: () => `see ${join(options.dir, 'redis.log')}` });
  return {
    url: `redis://127.0.0.1:${options.port}`,
    port: options.port,
    pid: child.pid,
    stop: () => server.stopWith('SIGTERM'),
    kill: () => server.stopWith('SIGKILL'),
  };
}
