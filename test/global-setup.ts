import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { findInfluxd, freePort, startInfluxd, INSTALL_HINT } from '../influx/influxd-process.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    influxUrl: string;
  }
}

/**
 * One throwaway influxd for the whole run: a temp dir and a free loopback port.
 * Integration tests need it and fail (never skip) when it is missing.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!findInfluxd()) throw new Error(`integration tests need a real InfluxDB. ${INSTALL_HINT}`);
  const dir = mkdtempSync(join(tmpdir(), 'gs-influxd-'));
  const influxd = await startInfluxd({ dir, port: await freePort() });
  project.provide('influxUrl', influxd.url);
  return async () => {
    await influxd.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
