import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../influx/influxd-process.ts';
import { startRedisServer, type RedisServerHandle } from '../../cluster/redis-process.ts';

/**
 * A throwaway redis-server (Debian's, /usr/bin/redis-server) on a free loopback port in a
 * temp dir, for the clustered mode's tests; started by the files that need it, so the rest
 * of the suite, like the one-process default, runs without Redis. Missing: the test fails.
 */
export async function startTestRedis(): Promise<RedisServerHandle & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'gs-redis-'));
  const redis = await startRedisServer({ dir, port: await freePort() });
  return {
    ...redis,
    dir,
    async stop() {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
