import type { Config } from '../config/config.ts';
import type { Logger } from '../lib/logger.ts';
import type { Clock } from '../lib/clock.ts';
import type { Metrics } from '../lib/metrics.ts';
import type { Listeners } from '../lib/listeners.ts';
import type { AcceptedReading } from '../contracts/reading.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import type { NotifyConfig } from '../notify/config.ts';
import type { RulesConfig } from '../health/rules-config.ts';
import type { IrrigationSettings } from '../rules/irrigation/settings.ts';
import type { IrrigationTime } from '../irrigation/start.ts';
import type { StartWeatherDeps } from '../weather/start.ts';
import type { RollupOptions } from '../rollups/start.ts';

/** What a caller of `startApp` may set beyond the configuration (tests, simulations, main.ts). */
export interface AppOptions {
  clock?: Clock;
  onStoredTimestamps?: (ts: Float64Array, at: number) => void;
  ingestStatsIntervalMs?: number;
  notify?: NotifyConfig;
  /** Facility/device health thresholds and work-order SLA; GS_RULES_CONFIG when absent. */
  rules?: RulesConfig;
  irrigation?: Partial<IrrigationSettings>;
  /** The irrigation tick and timers on another clock than the wall's (simulated runs). */
  irrigationTime?: IrrigationTime;
  /** Weather request timeout, size limit and poll timer (tests). */
  weather?: StartWeatherDeps['options'];
  /** Rollup interval, steps per run, grace (tests); the retention is GS_RAW_RETENTION_DAYS. */
  rollups?: Omit<Partial<RollupOptions>, 'retentionDays'>;
  /** Clustered: the community leases' life and the time between rounds (cluster/ownership.ts; default 10 s and 3 s). */
  ownership?: { ttlMs?: number; roundMs?: number };
  /** Clustered: how long a forwarded zone action waits for its owner, and when it is sent again (cluster/zone-forward.ts; default 5 s and 2 s). */
  zoneForward?: { timeoutMs?: number; resendMs?: number };
  /** GS_POSTGRES_URL: how often the registry's changes are shipped and PostgreSQL polled besides LISTEN (registry/replica/; default 1 s). */
  registryReplica?: { pollMs?: number };
}

/** Accepted readings, after they are durable: each feature subscribes under its own name. */
export type ReadingListeners = Listeners<[AcceptedReading, DeviceInfo]>;

/** What every feature may use: the settings, the process-wide parts, and the reading listeners. */
export interface AppContext {
  config: Config;
  logger: Logger;
  clock: Clock;
  metrics: Metrics;
  notifyConfig: NotifyConfig;
  rulesConfig: RulesConfig;
  options: AppOptions;
  readings: ReadingListeners;
}
