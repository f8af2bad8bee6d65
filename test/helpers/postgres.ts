import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../influx/influxd-process.ts';
import { startPostgresServer, type PostgresServerHandle } from '../../cluster/postgres-process.ts';

export interface TestPostgres extends PostgresServerHandle {
  dir: string;
  /** A new empty database on this server; its URL. */
  createDatabase(): Promise<string>;
  /** Stop the server and keep its data (an outage); `restart` brings it back on the same port and data. */
  halt(): Promise<void>;
  restart(): Promise<void>;
}

let databases = 0;

/**
 * A throwaway PostgreSQL (Debian's, /usr/lib/postgresql/N/bin) on a free loopback port in a
 * temp dir, for the clustered mode's tests; started by the files that need it, so the rest of
 * the suite, like the one-process default, runs without PostgreSQL. Missing: the test fails.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'gs-pg-'));
  const port = await freePort();
  let server = await startPostgresServer({ dir, port });
  return {
    url: server.url,
    port,
    get pid() { return server.pid; },
    urlOf: (database) => server.urlOf(database),
    dir,
    async createDatabase() {
      const name = `gs_test_${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return server.urlOf(name);
    },
    halt: () => server.stop(),
    async restart() {
      await server.stop();
      server = await startPostgresServer({ dir, port });
    },
    kill: () => server.kill(),
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
