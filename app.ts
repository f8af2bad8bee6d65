import type { Config } from './config/config.ts';
import type { Logger } from './lib/logger.ts';
import { systemClock } from './lib/clock.ts';
import { createMetrics, type Metrics } from './lib/metrics.ts';
import { createListeners } from './lib/listeners.ts';
import { loadNotifyConfig } from './notify/config.ts';
import { loadRulesConfig } from './health/rules-config.ts';
import type { AppContext, AppOptions, ReadingListeners } from './app/context.ts';
import { createFeatureRunner, type StopOptions } from './app/features.ts';
import { startDataDir } from './app/data-dir.ts';
import { startInfluxdb } from './app/influxdb.ts';
import { startDurableLogFeature } from './app/durable-log.ts';
import { startNotifications } from './app/notifications.ts';
import { startSharedState } from './app/shared-state.ts';
import { startRegistryReplica } from './app/registry-replica.ts';
import { startHealthFeature } from './app/health.ts';
import { startIngestFeature } from './app/ingest.ts';
import { openMqtt, startBroker } from './app/mqtt.ts';
import { startIrrigationFeature, startWeatherFeature } from './app/irrigation.ts';
import { startApiFeature } from './app/api.ts';
import { startPeopleFeature } from './app/people.ts';
import { startRollupsFeature } from './app/rollups.ts';
import { readingsOutlet, startAckReplicaFeature, startClusterFeature, startOwnershipFeature, startZoneForwardFeature } from './app/cluster.ts';

export type { AppOptions } from './app/context.ts';
export type App = Awaited<ReturnType<typeof startApp>>;

/**
 * The composition root: the app is this list of features, started in order, each in its
 * own guard (app/features.ts), and stopped in reverse — the doors (MQTT, then the API)
 * close first, the durable log drains near the end, the data directory is released last.
 * Each feature's wiring lives in app/, one file per feature.
 */
export async function startApp(config: Config, logger: Logger, options: AppOptions = {}) {
  // Read before anything starts, so a bad notification or rules config fails fast (GS_NOTIFY_CONFIG, GS_RULES_CONFIG).
  const metrics = createMetrics();
  const ctx: AppContext = {
    config,
    logger,
    clock: options.clock ?? systemClock,
    metrics,
    notifyConfig: options.notify ?? loadNotifyConfig(process.env),
    rulesConfig: options.rules ?? loadRulesConfig(process.env),
    options,
    readings: readingListeners(logger, metrics),
  };
  const features = createFeatureRunner(logger);
  const { start } = features;

  const store = await start('data-dir', () => startDataDir(ctx));
  const influxdb = await start('influxdb', () => startInfluxdb(ctx, store.dataDir));
  const log = await start('durable-log', () => startDurableLogFeature(ctx, { dataDir: store.dataDir, influxUrl: influxdb.url, deadLetters: store.deadLetters }));
  const append = (lines: string[]) => log.durableLog.append(lines);
  const people = await start('people', () => startPeopleFeature(ctx, store));
  const cluster = await start('cluster', () => startClusterFeature(ctx, store));
  await start('ack-replica', () => startAckReplicaFeature(ctx, cluster, log));
  const shared = await start('shared-state', () => startSharedState(ctx, store));
  const replica = await start('registry-replica', () => startRegistryReplica(ctx, { ...store, sql: shared.sql }));
  const { notifications } = await start('notifications', () => startNotifications(ctx, { ...store, sql: shared.sql, nodeId: cluster.nodeId, ackLink: people.people.ackLink }));
  const { health } = await start('health', () => startHealthFeature(ctx, { ...store, sql: shared.sql, influx: influxdb.influx, append, notifications, ownership: cluster.ownership }));
  const intake = await start('ingest', () => startIngestFeature(ctx, { ...store, log, shared: cluster.dedup, onReading: readingsOutlet(ctx, cluster) }));
  const { broker, clusterReady } = await start('broker', () => startBroker(ctx, { ...store, ingest: intake.ingest, tier: cluster.tier }));
  // A credential changed on another node: the live connection here goes too, as on that node.
  replica.onRevoked?.('broker', (lost) => {
    for (const id of lost.devices) broker.disconnectDevice(id);
    for (const id of lost.services) broker.disconnectService(id);
  });
  // A facility's thresholds changed on another node (an import there): re-read, as after an import here.
  replica.onApplied?.('health', (changes) => { if (changes.has('facilities')) health.facilityThresholds.refresh(); });
  const { irrigation } = await start('irrigation', () => startIrrigationFeature(ctx, { db: store.db, sql: shared.sql, broker, append, signal: (alert) => health.monitor.signal(alert), ownership: cluster.ownership, influx: influxdb.influx }));
  const { weather } = await start('weather', () => startWeatherFeature(ctx, { ...store, zones: irrigation.forecasts }));
  await start('rollups', () => startRollupsFeature(ctx, { db: store.db, influx: influxdb.influx, durableLog: log.durableLog }));
  const zoneForward = await start('zone-forward', () => startZoneForwardFeature(ctx, cluster, irrigation.engine, shared.sql));
  const http = await start('api', () => startApiFeature(ctx, {
    ...store, broker, health, irrigation: irrigation.engine, profiles: intake.profiles, ...(zoneForward.forward ? { forwardZoneAction: zoneForward.forward } : {}),
    readiness: { influxdb: () => influxdb.influx.ping(), broker: () => broker.isListening(), durableLog: () => log.durableLog.readiness(), ...(clusterReady ? { redis: clusterReady } : {}), ...(shared.ready ? { postgres: shared.ready } : {}) },
    notifications: { outbox: notifications.outbox, alertDistricts: (ids) => health.alerts.districtsOf(ids), silences: notifications.silences, clock: ctx.clock },
    ...people.apiDeps, beforeListen: (api) => people.pages(api, health),
    ...(replica.flush ? { registryShipped: replica.flush } : {}),
  }));
  people.people.bindUrl(http.url);
  await start('ownership', () => startOwnershipFeature(cluster));
  await start('mqtt', () => openMqtt(ctx, { broker, ingest: intake.ingest, onHold: intake.onHold }));

  store.lock.setUrl(http.url);
  logger.info({ mqttPort: broker.port, httpPort: http.port, influxUrl: influxdb.url, dataDir: store.dataDir, features: features.names() }, 'greenspace started');

  let stopped: Promise<void> | undefined;
  return {
    mqttPort: broker.port,
    /** Every bound MQTT listener: tcp always; tls, ws, wss when configured. */
    mqttPorts: broker.ports,
    httpPort: http.port,
    influxUrl: influxdb.url,
    adminToken: store.adminToken,
    /** Users and signed acknowledge links (web/people.ts). */
    people: people.people,
    api: http.api,
    broker,
    devices: store.devices,
    city: store.city,
    inventory: store.inventory,
    durableLog: log.durableLog,
    metrics: ctx.metrics,
    notifications,
    health,
    irrigation: irrigation.engine,
    /** The weather feed, when GS_WEATHER_URL is set. */
    weather,
    /** Which communities this node runs the rules of (one process: all; clustered: its leases). */
    ownership: cluster.ownership,
    /** Clustered: operator actions forwarded to and from the zones' owners (tests stop it to play an owner that does not answer). */
    zoneForward: zoneForward.zoneForward,
    /** Who listens to accepted readings, by name (tests add their own). */
    readings: ctx.readings,
    /** Orderly stop, in reverse: no new readings, pending appends durable, backlog shipped within the deadline. */
    stop(stopOptions: StopOptions = {}): Promise<void> {
      stopped ??= features.stopAll(stopOptions).then(() => logger.info('greenspace stopped'));
      return stopped;
    },
  };
}

/** Each reading listener runs in its own guard: a throw is logged and counted with the feature's name, and the next still runs. */
function readingListeners(logger: Logger, metrics: Metrics): ReadingListeners {
  return createListeners((feature, error) => {
    metrics.listenerErrors.inc({ feature });
    logger.error({ module: 'readings', feature, err: error }, 'a reading listener failed; the others still ran');
  });
}
