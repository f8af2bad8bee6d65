import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { findBinary } from '../lib/find-binary.ts';
import { superviseServer } from '../lib/server-process.ts';

export const POSTGRES_INSTALL_HINT =
  'PostgreSQL is not installed. On Debian/Ubuntu, as root: apt-get update && apt-get install -y postgresql ' +
  '(only the clustered mode\'s shared state, GS_POSTGRES_URL, and its tests need it; the one-process default does not).';

/**
 * A PostgreSQL server binary (`initdb`, `postgres`). Debian's `postgresql` package puts them in
 * /usr/lib/postgresql/<major>/bin, not on PATH: the newest major there, else PATH.
 */
export function findPostgresBinary(name: 'initdb' | 'postgres', configured?: string): string | undefined {
  if (configured) return findBinary(name, configured);
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const major of majors) {
    const path = join(root, major, 'bin', name);
    if (existsSync(path)) return path;
  }
  return findBinary(name);
}

export interface PostgresServerHandle {
  /** A superuser's URL to the `postgres` database (trust authentication, loopback only). */
  url: string;
  port: number;
  pid: number | undefined;
  /** A URL to another database on the same server. */
  urlOf(database: string): string;
  /** Stop it: SIGINT (fast shutdown), SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** Stop it at once, as a crash would (kill -9). */
  kill(): Promise<void>;
}

/**
 * initdb and postgres refuse to run as root. As root (CI), both run as Debian's `postgres`
 * user on a directory handed to it; as anyone else, as that user.
 */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || uid <= 0) throw new Error('running as root, and there is no `postgres` user to run PostgreSQL as (Debian\'s postgresql package creates it)');
  return { uid, gid };
}

export async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A throwaway PostgreSQL bound to 127.0.0.1 with everything under `dir` (the tests' and
 * benchmarks' shared state for the clustered mode): `initdb` with trust authentication for a
 * superuser `gs` (skipped when `dir` holds one already), then `postgres` in the foreground with its socket in `dir`. Durability is
 * off (fsync, synchronous_commit, full_page_writes): a test database is thrown away, and a
 * machine crash mid-test only loses the test.
 */
export async function startPostgresServer(options: { dir: string; port: number; startTimeoutMs?: number }): Promise<PostgresServerHandle> {
  const initdb = findPostgresBinary('initdb');
  const postgres = findPostgresBinary('postgres');
  if (!initdb || !postgres) throw new Error(POSTGRES_INSTALL_HINT);
  const data = join(options.dir, 'data');
  const socketDir = join(options.dir, 'socket');
  mkdirSync(socketDir, { recursive: true });
  const user = runAs();
  if (user) for (const path of [options.dir, socketDir]) chownSync(path, user.uid, user.gid);
  // A data directory from an earlier start of this server (a test restarting it) is started as it is.
  if (!existsSync(join(data, 'PG_VERSION'))) {
    const init = spawnSync(initdb, ['-D', data, '-U', 'gs', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'], { encoding: 'utf8', ...user });
    if (init.status !== 0) throw new Error(`initdb failed (${init.status ?? init.signal}): ${(init.stderr || init.stdout || String(init.error)).slice(-2_000)}`);
  }

  const args = ['-D', data, '-p', String(options.port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'];
  const child: ChildProcess = spawn(postgres, args, { stdio: ['ignore', 'ignore', 'pipe'], ...user });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString('utf8')).slice(-4_000); });
  const server = superviseServer(child, 'postgres');
  const urlOf = (database: string): string => `postgres://gs@127.0.0.1:${options.port}/${database}`;
  await server.untilAnswering(() => canConnect(urlOf('postgres')), { where: `127.0.0.1:${options.port}`, timeoutMs: options.startTimeoutMs ?? 30_000, seeMore: () => `its log: ${stderr}` });
  return {
    url: urlOf('postgres'),
    port: options.port,
    pid: child.pid,
    urlOf,
    stop: () => server.stopWith('SIGINT'),
    kill: () => server.stopWith('SIGKILL'),
  };
}
