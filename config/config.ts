import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseBoundedConfig } from '../lib/bounded-yaml.ts';
import { TrustProxy } from './trust-proxy.ts';
import { DEFAULT_AUTH_CONCURRENCY, LIBUV_MAX_THREADS, threadpoolSizeFor } from './threadpool-size.cjs';

const port = z.coerce.number({ error: 'expected a port number 0-65535 (0: any free port)' }).int('expected a whole number').min(0, 'expected a port number 0-65535').max(65535, 'expected a port number 0-65535');
// The bounds carry their own messages: zod 4 would otherwise report a value out of range
// with the schema's `error` ("expected a number"), which misleads about "0" or "70000".
const wholeNumber = (min: number, max: number) =>
  z.coerce.number({ error: 'expected a number' }).int('expected a whole number').min(min, `expected at least ${min}`).max(max, `expected at most ${max}`);
const positiveInt = (max: number) => wholeNumber(1, max);
const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]);

/** The whole configuration: one schema, one source of types. */
export const Config = z.strictObject({
  mqttHost: z.string().min(1).default('0.0.0.0'),
  mqttPort: port.default(1883),
  httpHost: z.string().min(1).default('0.0.0.0'),
  httpPort: port.default(3000),
  influxUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://127.0.0.1:8086' }).default('http://127.0.0.1:8086'),
  influxDb: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected letters, digits, _ or - (at most 64)').default('greenspace'),
  /** InfluxDB 2.x/3.x token (sent as `Authorization: Token ...`); 1.x ignores it with auth off. */
  influxToken: z.string().min(1).max(4096, 'expected at most 4096 characters').optional(),
  /**
   * The write API: `v1` (`/write?db=`, InfluxDB 1.x, or 2.x/3.x through their v1 compatibility
   * API) or `v2` (`/api/v2/write` with influxOrg, influxBucket and influxToken: 2.x natively,
   * 3.x through its v2-compatible write API). Queries are InfluxQL at `/query` either way.
   */
  influxApi: z.enum(['v1', 'v2'], { error: 'expected v1 (InfluxDB 1.x) or v2 (InfluxDB 2.x/3.x)' }).default('v1'),
  /** The organisation (name or ID) for the v2 API; 3.x ignores it. */
  influxOrg: z.string().min(1).max(256, 'expected at most 256 characters').regex(/^[^\x00-\x1f]+$/, 'expected no control characters').optional(),
  /** The bucket (name or ID) the v2 API writes to; on 3.x, the database. */
  influxBucket: z.string().min(1).max(256, 'expected at most 256 characters').regex(/^[^\x00-\x1f]+$/, 'expected no control characters').optional(),
  /** `auto`: start a loopback influxd under dataDir when nothing answers at influxUrl and influxd is installed. */
  managedInfluxd: z.enum(['auto', 'never']).default('auto'),
  /** The influxd binary for the managed server; found on PATH when unset. */
  influxdBinary: z.string().min(1).optional(),
  dataDir: z.string().min(1).default('./data'),
  /**
   * Where people reach this server (links in notifications, the web pages); unset: derived
   * from the bound HTTP port. Behind a reverse proxy, its public https URL.
   */
  publicUrl: z.url().optional(),
  /**
   * The reverse proxies whose X-Forwarded-For names the client (config/trust-proxy.ts): the
   * per-address login budget and residents' report limit count that client, not the proxy.
   * Unset: trust none.
   */
  trustProxy: TrustProxy.optional(),
  /** The Grafana the dashboards are provisioned on (its base URL); the web pages link to it. Unset: no links. */
  grafanaUrl: z.url().optional(),
  /** Bootstrap admin bearer token; generated into {dataDir}/admin-token when unset. */
  adminToken: z.string().min(16, 'must be at least 16 characters').optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `auto`: readable lines on a terminal, JSON otherwise (a journal, a file, a log shipper). */
  logFormat: z.enum(['auto', 'json', 'pretty']).default('auto'),
  /** Points per InfluxDB write request. */
  writeBatchSize: positiveInt(50_000).default(5_000),
  /**
   * Longest wait before a partial batch is written. While a write is in flight the next batch
   * gathers anyway, so this only delays a point that finds the writer idle: at 5,000/s, 20 ms
   * gave p50/p99 publish → stored of 20/81–170 ms in a slow-disk phase, 5 ms 11/66–113 ms,
   * for ~10 % more CPU a reading at that rate (more, smaller writes). Floods fill whole batches.
   */
  writeFlushMs: positiveInt(60_000).default(5),
  /** Longest pause between InfluxDB write retries (exponential backoff with full jitter up to this). */
  writeRetryMaxMs: positiveInt(600_000).default(30_000),
  /** Largest MQTT payload the ingest decodes; larger ones are refused as too_large. */
  maxPayloadBytes: positiveInt(16 * 1024 * 1024).default(256 * 1024),
  /** How far a device timestamp may lie ahead of receive time, and how far behind. */
  maxFutureSkewS: positiveInt(365 * 86_400).default(300),
  maxPastAgeS: positiveInt(10 * 365 * 86_400).default(7 * 86_400),
  /**
   * Points waiting for a reachable InfluxDB past which the broker stops reading from its
   * sockets until half of them are stored (TCP backpressure on publishers): under overload
   * readings arrive late, not by the hundred thousand into memory and the durable log.
   * Never while InfluxDB is unreachable (then the durable log keeps them). 0 turns it off.
   */
  intakeMaxBacklog: wholeNumber(0, 100_000_000).default(100_000),
  /** Disk budget of the durable log (readings not yet in InfluxDB); past it the oldest are dropped and counted. */
  durableLogMaxBytes: positiveInt(1e12).default(1024 * 1024 * 1024),
  /**
   * Raw points (readings, device status, ingest statistics) older than this many days are
   * deleted once they are in the daily rollups (rollups/README.md); 0 keeps them forever.
   * 400: a year and a season, so last year's same month is still there in full detail.
   */
  rawRetentionDays: wholeNumber(0, 100 * 366).default(400),
  /**
   * A directory of the operator's device profiles (*.yaml, contracts/device-profile.ts), read
   * at boot beside the shipped ones (ingest/profiles/); a problem in any refuses the boot.
   */
  deviceProfilesDir: z.string().min(1).optional(),
  /** Also consume readings from an external broker (mqtt://user:pass@host:1883), e.g. a Mosquitto or EMQX cluster. */
  mqttSource: z.url({ protocol: /^mqtts?$/, error: 'expected an mqtt:// or mqtts:// URL' }).optional(),
  /** Shared-subscription group on the external broker; unset for brokers without $share. */
  mqttSourceGroup: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected letters, digits, _ or -').optional(),
  mqttSourceClientId: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'expected a valid MQTT client id').default('greenspace-ingest'),
  mqttSourceConnections: positiveInt(64).default(4),
  /**
   * `off`: one process, the embedded broker alone (the default; needs no Redis). `redis`:
   * this node's embedded broker shares subscriptions, retained messages and sessions with
   * the other nodes through Redis (mqemitter-redis, aedes-persistence-redis): a command
   * published on one node reaches a valve connected to another. docs/cluster.md.
   */
  cluster: z.enum(['off', 'redis']).default('off'),
  /** The Redis the nodes share when GS_CLUSTER=redis (redis://[:password@]host:port[/db]). */
  redisUrl: z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' }).optional(),
  /**
   * Clustered only: `redis` (the default) copies every durable-log write to this node's
   * stream in Redis before its PUBACK, so a survivor writes what a dead node acknowledged
   * but had not shipped (cluster/redis-ack-replica.ts); `off`: each node's disk alone, as
   * before (what it costs is measured in docs/cluster.md). Ignored in one process.
   */
  ackReplica: z.enum(['redis', 'off']).default('redis'),
  /**
   * A file holding the key device and service-account secrets are hashed with (hex, 32
   * bytes or more, mode 0600), instead of the data directory's own `credential-key`: every
   * node of a cluster is given the same file, so a secret hashed on one node checks on the
   * others (a registry copied or shared between them). registry/secrets.ts checks the file.
   */
  credentialKeyFile: z.string().min(1).max(4096, 'expected a path of at most 4096 characters').optional(),
  /**
   * The PostgreSQL the nodes share their alerts and work orders in
   * (postgres://user:password@host:5432/db). Unset: they stay in the data directory's SQLite,
   * as in one process (a clustered node without it keeps its own alerts). docs/cluster.md.
   */
  postgresUrl: z.url({ protocol: /^postgres(ql)?$/, error: 'expected a postgres:// or postgresql:// URL' }).max(2_000).optional(),
  /** fsync the durable log before acknowledging QoS 1 (turn off only for benchmarks of the rest). */
  durableAck: flag.default(true),
  /** MQTT over TLS: off unless a port is set; needs mqttTlsCert and mqttTlsKey (PEM files). */
  mqttTlsPort: port.optional(),
  mqttTlsCert: z.string().min(1).optional(),
  mqttTlsKey: z.string().min(1).optional(),
  /** MQTT over WebSocket (ws://) and over TLS WebSocket (wss://, same certificate): off unless set. */
  mqttWsPort: port.optional(),
  mqttWssPort: port.optional(),
  /** Largest MQTT packet read from a socket; past it the connection is closed before aedes buffers it. */
  mqttMaxPacketBytes: positiveInt(256 * 1024 * 1024).default(512 * 1024),
  /** Publishes per second (sustained) and burst per device connection; excess is dropped and counted. */
  mqttPublishRatePerS: z.coerce.number({ error: 'expected a number' }).positive('must be above 0').default(5),
  mqttPublishBurst: positiveInt(1_000_000).default(50),
  /** The same for service accounts: a network server publishes for all of its devices. */
  mqttServicePublishRatePerS: z.coerce.number({ error: 'expected a number' }).positive('must be above 0').default(500),
  mqttServicePublishBurst: positiveInt(10_000_000).default(5_000),
  /** Dropped publishes within a minute after which the client is disconnected. */
  mqttRateLimitDisconnectAfter: positiveInt(1_000_000).default(100),
  /** Open MQTT connections at most, over every listener. */
  mqttMaxConnections: positiveInt(10_000_000).default(50_000),
  /** CONNECTs per client IP: sustained per second, and burst (a gateway's NAT reconnecting its devices); the burst also caps an IP's connections not yet authenticated. */
  mqttConnectRatePerIpPerS: z.coerce.number({ error: 'expected a number' }).positive('must be above 0').default(100),
  mqttConnectBurstPerIp: positiveInt(10_000_000).default(2_000),
  /**
   * scrypt checks of MQTT passwords running at once (broker/authenticate.ts). Each holds a
   * libuv thread for tens of milliseconds; after a restart every reconnecting device costs
   * one (later reconnects hit the credential cache), so this sets how fast a reconnect storm
   * is admitted. Must stay below the thread pool, which the durable log's fdatasync shares.
   */
  mqttAuthConcurrency: positiveInt(LIBUV_MAX_THREADS).default(DEFAULT_AUTH_CONCURRENCY),
  /** CONNECTs waiting for a check beyond those; past it a CONNECT is refused as server unavailable (3) and the client retries later. */
  mqttAuthQueue: wholeNumber(0, 1_000_000).default(256),
  /**
   * Failed (or abandoned) credential checks an address may cause at once, then a steady
   * rate per second (broker/auth-queue.ts); past it the address's CONNECTs needing a check
   * are refused as server unavailable (3) until the budget refills. Successes cost nothing.
   */
  mqttAuthFailureBurstPerIp: positiveInt(1_000_000).default(20),
  mqttAuthFailureRatePerIpPerS: z.coerce.number({ error: 'expected a number' }).positive('must be above 0').default(2),
  /**
   * libuv's thread pool (scrypt, async fs, DNS). Unset: mqttAuthConcurrency + 2, at least 4
   * (config/threadpool-size.cjs). Applied by the `--require` preload `npm start` uses, and
   * only when UV_THREADPOOL_SIZE is not set: see config/threadpool-preload.cjs for why not in main.ts.
   */
  threadpoolSize: positiveInt(LIBUV_MAX_THREADS).optional(),
  /** Failed API authentications per client IP: a burst, then this many more per minute; past it 429. */
  apiAuthFailureBurst: positiveInt(100_000).default(10),
  apiAuthFailuresPerMin: positiveInt(100_000).default(10),
  /** Residents' reports accepted per address per hour (a burst of as many, then a slow refill). */
  residentReportsPerHour: positiveInt(100_000).default(10),
  /** A weather service in Open-Meteo's forecast API shape (weather/README.md); the feed is off when unset. */
  weatherUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://api.open-meteo.com/v1/forecast' }).optional(),
  /** Seconds between polls. Open-Meteo's models refresh hourly at best. */
  weatherPollIntervalS: wholeNumber(10, 86_400).default(3_600),
  /** Hours a fetched forecast is trusted for rain and frost skips; ET0 is kept as the last known value past it. */
  weatherMaxAgeH: wholeNumber(1, 72).default(12),
  /** Where zones get their weather: their community's facilities' coordinates, or only their district's. */
  weatherLocationBy: z.enum(['community', 'district']).default('community'),
  /** The place for zones whose community and district have no coordinates in the inventory. */
  weatherLatitude: z.coerce.number({ error: 'expected a number' }).min(-90, 'expected a latitude -90..90').max(90, 'expected a latitude -90..90').optional(),
  weatherLongitude: z.coerce.number({ error: 'expected a number' }).min(-180, 'expected a longitude -180..180').max(180, 'expected a longitude -180..180').optional(),
});
export type Config = z.infer<typeof Config>;
export type ConfigKey = keyof Config;

/** Each setting's environment variable; the config file uses the keys themselves. */
export const ENV_NAMES: Record<ConfigKey, string> = {
  mqttHost: 'GS_MQTT_HOST',
  mqttPort: 'GS_MQTT_PORT',
  httpHost: 'GS_HTTP_HOST',
  httpPort: 'GS_HTTP_PORT',
  influxUrl: 'GS_INFLUX_URL',
  influxDb: 'GS_INFLUX_DB',
  influxToken: 'GS_INFLUX_TOKEN',
  influxApi: 'GS_INFLUX_API',
  influxOrg: 'GS_INFLUX_ORG',
  influxBucket: 'GS_INFLUX_BUCKET',
  managedInfluxd: 'GS_MANAGED_INFLUXD',
  influxdBinary: 'GS_INFLUXD_BINARY',
  dataDir: 'GS_DATA_DIR',
  publicUrl: 'GS_PUBLIC_URL',
  trustProxy: 'GS_TRUST_PROXY',
  grafanaUrl: 'GS_GRAFANA_URL',
  adminToken: 'GS_ADMIN_TOKEN',
  logLevel: 'GS_LOG_LEVEL',
  logFormat: 'GS_LOG_FORMAT',
  writeBatchSize: 'GS_WRITE_BATCH_SIZE',
  writeFlushMs: 'GS_WRITE_FLUSH_MS',
  maxPayloadBytes: 'GS_MAX_PAYLOAD_BYTES',
  writeRetryMaxMs: 'GS_WRITE_RETRY_MAX_MS',
  maxFutureSkewS: 'GS_MAX_FUTURE_SKEW_S',
  maxPastAgeS: 'GS_MAX_PAST_AGE_S',
  deviceProfilesDir: 'GS_DEVICE_PROFILES_DIR',
  durableLogMaxBytes: 'GS_DURABLE_LOG_MAX_BYTES',
  rawRetentionDays: 'GS_RAW_RETENTION_DAYS',
  intakeMaxBacklog: 'GS_INTAKE_MAX_BACKLOG',
  durableAck: 'GS_DURABLE_ACK',
  cluster: 'GS_CLUSTER',
  redisUrl: 'GS_REDIS_URL',
  ackReplica: 'GS_CLUSTER_ACK_REPLICA',
  credentialKeyFile: 'GS_CREDENTIAL_KEY_FILE',
  postgresUrl: 'GS_POSTGRES_URL',
  mqttSource: 'GS_MQTT_SOURCE',
  mqttSourceGroup: 'GS_MQTT_SOURCE_GROUP',
  mqttSourceClientId: 'GS_MQTT_SOURCE_CLIENT_ID',
  mqttSourceConnections: 'GS_MQTT_SOURCE_CONNECTIONS',
  mqttTlsPort: 'GS_MQTT_TLS_PORT',
  mqttTlsCert: 'GS_MQTT_TLS_CERT',
  mqttTlsKey: 'GS_MQTT_TLS_KEY',
  mqttWsPort: 'GS_MQTT_WS_PORT',
  mqttWssPort: 'GS_MQTT_WSS_PORT',
  mqttMaxPacketBytes: 'GS_MQTT_MAX_PACKET_BYTES',
  mqttPublishRatePerS: 'GS_MQTT_PUBLISH_RATE_PER_S',
  mqttPublishBurst: 'GS_MQTT_PUBLISH_BURST',
  mqttServicePublishRatePerS: 'GS_MQTT_SERVICE_PUBLISH_RATE_PER_S',
  mqttServicePublishBurst: 'GS_MQTT_SERVICE_PUBLISH_BURST',
  mqttRateLimitDisconnectAfter: 'GS_MQTT_RATE_LIMIT_DISCONNECT_AFTER',
  mqttMaxConnections: 'GS_MQTT_MAX_CONNECTIONS',
  mqttConnectRatePerIpPerS: 'GS_MQTT_CONNECT_RATE_PER_IP_PER_S',
  mqttConnectBurstPerIp: 'GS_MQTT_CONNECT_BURST_PER_IP',
  mqttAuthConcurrency: 'GS_MQTT_AUTH_CONCURRENCY',
  mqttAuthQueue: 'GS_MQTT_AUTH_QUEUE',
  mqttAuthFailureBurstPerIp: 'GS_MQTT_AUTH_FAILURE_BURST_PER_IP',
  mqttAuthFailureRatePerIpPerS: 'GS_MQTT_AUTH_FAILURE_RATE_PER_IP_PER_S',
  threadpoolSize: 'GS_THREADPOOL_SIZE',
  apiAuthFailureBurst: 'GS_API_AUTH_FAILURE_BURST',
  apiAuthFailuresPerMin: 'GS_API_AUTH_FAILURES_PER_MIN',
  residentReportsPerHour: 'GS_RESIDENT_REPORTS_PER_HOUR',
  weatherUrl: 'GS_WEATHER_URL',
  weatherPollIntervalS: 'GS_WEATHER_POLL_INTERVAL_S',
  weatherMaxAgeH: 'GS_WEATHER_MAX_AGE_H',
  weatherLocationBy: 'GS_WEATHER_LOCATION_BY',
  weatherLatitude: 'GS_WEATHER_LATITUDE',
  weatherLongitude: 'GS_WEATHER_LONGITUDE',
};

/**
 * Old names that still work, each for one release more: the environment variable or
 * file key, the setting it now sets. The new name wins when both are given.
 */
const DEPRECATED: ReadonlyArray<{ env: string; key: string; now: ConfigKey }> = [
  // The durable log was also called "spool"; one name for it now (code, metrics, config).
  { env: 'GS_SPOOL_MAX_BYTES', key: 'spoolMaxBytes', now: 'durableLogMaxBytes' },
];

const V2_NEEDS = {
  influxOrg: 'the organisation name or ID; InfluxDB 3.x ignores it, any name will do',
  influxBucket: 'the bucket to write to; on InfluxDB 3.x, the database',
  influxToken: 'an API token allowed to write to the bucket',
} as const;

/**
 * Problems between settings, which one field's schema cannot see. Kept out of the schema
 * itself: a refined zod object can no longer be `.pick()`ed or `.partial()`ed.
 */
export function findConfigConflicts(config: Config): string[] {
  const problems: string[] = [];
  for (const key of ['mqttTlsPort', 'mqttWssPort'] as const) {
    if (config[key] === undefined) continue;
    for (const needed of ['mqttTlsCert', 'mqttTlsKey'] as const) {
      if (!config[needed]) problems.push(`${ENV_NAMES[needed]}: required when ${ENV_NAMES[key]} is set (a PEM ${needed === 'mqttTlsCert' ? 'certificate' : 'private key'} file)`);
    }
  }
  if ((config.weatherLatitude === undefined) !== (config.weatherLongitude === undefined)) {
    problems.push(`${ENV_NAMES.weatherLatitude} and ${ENV_NAMES.weatherLongitude}: set both or neither (the default place for weather)`);
  }
  if (config.influxApi === 'v2') {
    for (const needed of ['influxOrg', 'influxBucket', 'influxToken'] as const) {
      if (!config[needed]) problems.push(`${ENV_NAMES[needed]}: required when ${ENV_NAMES.influxApi} is v2 (${V2_NEEDS[needed]})`);
    }
  }
  if (config.cluster === 'redis' && !config.redisUrl) problems.push(`${ENV_NAMES.redisUrl}: required when ${ENV_NAMES.cluster} is redis (e.g. redis://127.0.0.1:6379)`);
  if (config.cluster === 'off' && config.redisUrl) problems.push(`${ENV_NAMES.redisUrl}: set, but ${ENV_NAMES.cluster} is off: set ${ENV_NAMES.cluster}=redis to use it, or unset it`);
  const threads = threadpoolSizeFor(config.threadpoolSize, config.mqttAuthConcurrency);
  if (threads <= config.mqttAuthConcurrency) {
    const pool = config.threadpoolSize === undefined ? `the largest thread pool libuv has (${threads})` : `${ENV_NAMES.threadpoolSize} (${threads})`;
    problems.push(`${ENV_NAMES.mqttAuthConcurrency}: ${config.mqttAuthConcurrency} must be below ${pool}: password checks on every thread would hold the durable log's writes, and every QoS 1 PUBACK, behind a reconnect storm`);
  }
  return problems;
}

/** Move what deprecated names set to the setting they now name, unless that was set under its new name. */
function applyDeprecatedNames(env: NodeJS.ProcessEnv, raw: Record<string, unknown>, origin: Record<string, string>, file: string | undefined, warn: (message: string) => void): void {
  for (const { env: oldEnv, key: oldKey, now } of DEPRECATED) {
    if (oldKey in raw) {
      if (!(now in raw)) {
        raw[now] = raw[oldKey];
        origin[now] = `${file}: ${oldKey}`;
      }
      delete raw[oldKey];
      warn(`${file}: ${oldKey} is deprecated, use ${now} (same meaning)`);
    }
    const value = env[oldEnv];
    if (value === undefined || value === '') continue;
    if (origin[now] !== ENV_NAMES[now]) {
      raw[now] = value;
      origin[now] = oldEnv;
    }
    warn(`${oldEnv} is deprecated, use ${ENV_NAMES[now]} (same meaning)`);
  }
}

/** Settings whose values are secrets or may carry one (user:password@ in a URL): never echoed in errors. */
const SECRET_KEYS: ReadonlySet<string> = new Set<ConfigKey>(['adminToken', 'influxToken', 'influxUrl', 'mqttSource', 'weatherUrl', 'redisUrl', 'postgresUrl']);

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Build the configuration from an optional file (GS_CONFIG, JSON or YAML) overlaid by
 * environment variables. Throws a ConfigError listing every problem, each naming where
 * the bad value came from.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
  /** Told of each deprecated name in use (main.ts logs it once the logger exists). */
  onDeprecated: (message: string) => void = () => undefined,
): Config {
  const raw: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  const file = env.GS_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      parsed = parseBoundedConfig(readFile(file), file); // YAML is a superset of JSON; size, nesting and aliases bounded (lib/bounded-yaml.ts)
    } catch (error) {
      throw new ConfigError([`GS_CONFIG=${file}: cannot read or parse the file (${(error as Error).message.split('\n')[0]})`]);
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError([`${file}: expected a mapping of settings at the top level`]);
      for (const [key, value] of Object.entries(parsed)) {
        raw[key] = value;
        origin[key] = `${file}: ${key}`;
      }
    }
  }
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      raw[key] = value;
      origin[key] = name;
    }
  }
  applyDeprecatedNames(env, raw, origin, file, onDeprecated);
  const result = Config.safeParse(raw);
  if (result.success) {
    const conflicts = findConfigConflicts(result.data);
    if (conflicts.length > 0) throw new ConfigError(conflicts);
    return result.data;
  }
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      if (issue.code === 'unrecognized_keys') return `${file ?? 'config'}: unknown setting(s) ${issue.keys.join(', ')}`;
      const where = origin[key] ?? ENV_NAMES[key as ConfigKey] ?? key;
      const seen = !(key in raw) ? '' : SECRET_KEYS.has(key) ? ' (value not shown: it may hold a secret)' : ` (got ${JSON.stringify(raw[key])})`;
      return `${where}: ${issue.message}${seen}`;
    }),
  );
}
