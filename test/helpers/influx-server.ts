import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { freePort, startInfluxd, type InfluxdHandle } from '../../influx/influxd-process.ts';
import type { InfluxTarget } from '../../influx/http.ts';
import { startInfluxV2Standin, type InfluxV2Standin, type StandinToken } from '../../influx/v2-standin.ts';
import { uniqueDb } from './app.ts';
import { startWriteTap } from './write-tap.ts';

/** The write APIs the ingest tests run against: the real 1.6 (v1), the 2.x stand-in over it (v2). */
export type InfluxApi = 'v1' | 'v2';
export const INFLUX_APIS: readonly InfluxApi[] = ['v1', 'v2'];

export const V2_ORG = 'greenspace-org';
export const V2_TOKEN = 'standin-token-all-access';
/** Tokens the stand-in knows: one that may do everything the app needs, and narrower ones. */
export const V2_TOKENS: Record<string, StandinToken> = {
  [V2_TOKEN]: { write: true, createDbrp: true },
  'standin-token-write-only': { write: true, createDbrp: false },
  'standin-token-read-only': { write: false, createDbrp: false },
};

/** App settings for InfluxDB through `api`, and the server behind them. */
export interface InfluxServer {
  overrides: Record<string, unknown>;
  /** Where a test's own shipper writes and queries, as the app would. */
  target: InfluxTarget;
  standin?: InfluxV2Standin;
  close(): Promise<void>;
}

/**
 * The settings that point an app at the run's influxd through `api`: as they are for v1
 * (startTestApp's defaults), or at a 2.x stand-in in front of it, with a bucket of its own
 * and the DBRP database the app's queries read (created by the app at start).
 */
export async function influxServer(api: InfluxApi, options: { upstream?: string; mapped?: boolean } = {}): Promise<InfluxServer> {
  const upstream = options.upstream ?? inject('influxUrl');
  const db = uniqueDb(api === 'v1' ? 'db' : 'mapped');
  if (api === 'v1') return { overrides: { influxDb: db }, target: { url: upstream, db }, close: async () => undefined };
  const bucket = uniqueDb('bucket');
  // `mapped`: the DBRP mapping made beforehand (a test without the app, which would make it).
  const standin = await startInfluxV2Standin({ upstream, org: V2_ORG, buckets: [bucket], tokens: V2_TOKENS, mappings: options.mapped ? { [db]: bucket } : {} });
  return {
    overrides: { influxApi: 'v2', influxUrl: standin.url, influxOrg: V2_ORG, influxBucket: bucket, influxToken: V2_TOKEN, influxDb: db },
    target: { url: standin.url, db, api: 'v2', org: V2_ORG, bucket, token: V2_TOKEN },
    standin,
    close: () => standin.close(),
  };
}

/**
 * A server the test can take down and bring back, with every line it accepted: v1 a
 * throwaway influxd of its own behind a write tap (stopped and restarted on its port), v2
 * the stand-in over the run's influxd (closed and listening again on its port).
 */
export interface OutageServer {
  overrides: Record<string, unknown>;
  down(): Promise<void>;
  up(): Promise<void>;
  lines(keep?: (line: string) => boolean): string[];
  /** v2: the requests the stand-in answered, by route. */
  standin?: InfluxV2Standin;
  close(): Promise<void>;
}

export async function outageServer(api: InfluxApi): Promise<OutageServer> {
  if (api === 'v2') {
    const server = await influxServer('v2');
    const standin = server.standin!;
    return { overrides: server.overrides, standin, down: () => standin.close(), up: () => standin.listen(), lines: standin.lines, close: () => standin.close() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'gs-outage-influxd-'));
  const port = await freePort();
  let influxd: InfluxdHandle | undefined = await startInfluxd({ dir, port });
  // The app writes through a tap that keeps every line influxd accepted.
  const tap = await startWriteTap(influxd.url);
  return {
    overrides: { influxUrl: tap.url },
    down: async () => {
      await influxd?.stop();
      influxd = undefined;
    },
    up: async () => {
      influxd = await startInfluxd({ dir, port });
    },
    lines: tap.lines,
    close: async () => {
      await tap.close();
      await influxd?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
