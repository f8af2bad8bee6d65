import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.ts';
import type { Logger } from './lib/logger.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import { createMetrics } from './lib/metrics.ts';
import { openDb } from './registry/db.ts';
import { createDeviceRegistry } from './registry/devices.ts';
import { createInventoryService } from './inventory/service.ts';
import { createCityRegistry } from './registry/city.ts';
import { createInfluxHttp } from './influx/http.ts';
import { findInfluxd, INSTALL_HINT, startInfluxd, type InfluxdHandle } from './influx/influxd-process.ts';
import { openDurableLog } from './durable-log/durable-log.ts';
import { startShipperThread } from './durable-log/shipper-thread.ts';
import { prepareDurableLogDir } from './durable-log/location.ts';
import { createIntakeControl } from './ingest/intake-control.ts';
import { createIngestStatsWriter } from './ingest/stats-writer.ts';
import { createDeadLetterStore, recordRejection } from './ingest/dead-letters.ts';
import { createIngest } from './ingest/pipeline.ts';
import { createMqttBroker } from './broker/create-broker.ts';
import { startMqttSource } from './ingest/mqtt-source.ts';
import { buildApi } from './api/build-api.ts';
import { createHealth } from './health/start.ts';
import { reopenWindowsMs } from './alerts/reopen.ts';
import { brokerOptionsFromConfig } from './broker/options-from-config.ts';
import { createTokenStore } from './registry/tokens.ts';
import { createServiceAccounts } from './registry/service-accounts.ts';
import { createDeviceLifecycle } from './registry/device-lifecycle.ts';
import type { AcceptedReading } from './contracts/reading.ts';
import type { DeviceInfo } from './contracts/device.ts';
import { loadNotifyConfig, type NotifyConfig } from './notify/config.ts';
import { createNotificationService } from './notify/service.ts';
import { loadRulesConfig, type RulesConfig } from './health/rules-config.ts';
import { startIrrigation, type IrrigationTime } from './irrigation/start.ts';
import type { IrrigationSettings } from './rules/irrigation/settings.ts';
import { startWeather, type StartWeatherDeps } from './weather/start.ts';
import { acquireDataDirLock } from './lib/data-dir-lock.ts';

export type App = Awaited<ReturnType<typeof startApp>>;

/**
 * The composition root: the one place that knows every concrete part and wires them.
 * Returns the running app (bound ports, its parts for tests) and an orderly stop.
 */
export async function startApp(
  config: Config,
  logger: Logger,
  options: {
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
  } = {},
) {
  const clock = options.clock ?? systemClock;
  // Read before anything starts, so a bad notification or rules config fails fast (GS_NOTIFY_CONFIG, GS_RULES_CONFIG).
  const notifyConfig = options.notify ?? loadNotifyConfig(process.env);
  const rulesConfig = options.rules ?? loadRulesConfig(process.env);
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  // Held while the server runs: the CLI's writing commands refuse this directory and point to the API.
  const dataDirLock = acquireDataDirLock(dataDir, 'server');
  const metrics = createMetrics();
  const adminToken = config.adminToken ?? loadOrCreateAdminToken(dataDir, logger);

  const db = openDb(join(dataDir, 'greenspace.db'));
  const devices = createDeviceRegistry(db);
  const inventory = createInventoryService({ db, now: () => clock.now(), devices, hashConcurrency: config.mqttAuthConcurrency });
  const city = createCityRegistry(db); // zones, facilities, teams, gateways for the features that need them
  const deadLetters = createDeadLetterStore(db, {
    maxRows: 100_000,
    onError: (error, rows) => logger.error({ module: 'dead-letters', err: error, rows }, 'dead letters not stored yet; retrying'),
  });
  const tokens = createTokenStore(db, { clock });
  const serviceAccounts = createServiceAccounts(db, { clock, isDeviceId: (id) => devices.get(id) !== undefined });

  // InfluxDB: the configured one, or a managed loopback influxd when nothing answers.
  let influxUrl = config.influxUrl;
  let managed: InfluxdHandle | undefined;
  const probe = createInfluxHttp({ url: influxUrl, db: config.influxDb, token: config.influxToken });
  if (!(await probe.ping())) {
    const target = new URL(influxUrl);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname);
    const binary = findInfluxd(config.influxdBinary);
    if (config.managedInfluxd === 'auto' && loopback && binary) {
      const port = Number(target.port || 8086);
      logger.info({ module: 'influxd', port, dir: join(dataDir, 'influxdb') }, 'no InfluxDB answering; starting a managed influxd');
      managed = await startInfluxd({ dir: join(dataDir, 'influxdb'), port, binary });
      influxUrl = managed.url;
    } else if (!binary) {
      logger.warn({ module: 'influxd', hint: INSTALL_HINT }, 'InfluxDB unreachable and not installed; readings are kept on disk until it is');
      process.stderr.write(`\n${INSTALL_HINT}\n\n`);
    } else {
      logger.warn({ module: 'influxd', url: influxUrl }, 'InfluxDB unreachable; readings are kept on disk until it answers');
    }
  }
  const influx = createInfluxHttp({ url: influxUrl, db: config.influxDb, token: config.influxToken });

  let lastStoredAt = Number.NEGATIVE_INFINITY;
  let appendsSinceCheck = 0;
  const durableLogDir = prepareDurableLogDir(dataDir, (move) => logger.warn({ module: 'durable-log', ...move }, 'durable log found under its old name'));
  const durableLog = await openDurableLog({
    dir: durableLogDir,
    clock,
    fsync: config.durableAck,
    maxBytes: config.durableLogMaxBytes,
    onDrop: (lines, bytes) => {
      metrics.durableLogDropped.inc(lines);
      logger.error({ module: 'durable-log', lines, bytes, budget: config.durableLogMaxBytes }, 'durable log over its disk budget: oldest points dropped');
    },
    onCursorError: (error) => logger.error({ module: 'durable-log', err: error }, 'durable log cursor not saved; a restart resends points InfluxDB already has'),
    onListenerError: (error) => logger.error({ module: 'durable-log', err: error }, 'a durable-log listener failed'),
  });
  // The shipper runs in its own thread: a flood of MQTT traffic saturating this event
  // loop must not starve the requests that move points to InfluxDB.
  const shipper = startShipperThread({
    log: durableLog,
    dir: durableLogDir,
    influx: { url: influxUrl, db: config.influxDb, token: config.influxToken },
    batchSize: config.writeBatchSize,
    flushMs: config.writeFlushMs,
    backoff: { baseMs: Math.min(200, config.writeRetryMaxMs), capMs: config.writeRetryMaxMs },
    logger: logger.child({ module: 'shipper' }),
    logLevel: config.logLevel,
    metrics: {
      pointsWritten: (n) => {
        lastStoredAt = Date.now();
        metrics.pointsWritten.inc(n);
      },
      writeError: (kind) => metrics.writeErrors.inc({ kind }),
      writeDuration: (s) => metrics.writeDuration.observe(s),
      influxUp: (up) => metrics.influxUp.set(up ? 1 : 0),
    },
    onRefused: (line, message) => recordRejection(metrics, deadLetters.add, {
      at: clock.now(), reason: 'influx_refused', detail: message, deviceId: /[, ]device=([^, ]+)/.exec(line)?.[1], topic: undefined, payload: line,
    }),
    onStoredTimestamps: options.onStoredTimestamps,
  });
  const backlogGauges = () => {
    const b = durableLog.backlog();
    metrics.durableLogBacklogPoints.set(b.lines);
    metrics.durableLogBacklogBytes.set(b.bytes);
    metrics.durableLogOldestAge.set(b.oldestAgeMs / 1000);
  };
  const backlogTimer = setInterval(backlogGauges, 1_000).unref();
  // The ingest's counters as `ingest_stats` points, through the durable log as readings (Grafana's Ingest dashboard).
  const stopIngestStats = createIngestStatsWriter({ registry: metrics.registry, append: (lines) => durableLog.append(lines), now: () => clock.now(), instance: hostname(), logger: logger.child({ module: 'ingest-stats' }) })
    .start((fn, ms) => { const timer = setInterval(fn, ms).unref(); return () => clearInterval(timer); }, options.ingestStatsIntervalMs ?? 10_000);

  // Readings reach the rules through listeners registered here (ingest never imports rules).
  const readingListeners: Array<(reading: AcceptedReading, device: DeviceInfo) => void> = [];
  // Facility/device health, alerts and the fault ledger (issue 6).
  const health = createHealth({
    db, clock, logger, devices, append: (lines) => durableLog.append(lines), influx, reopenWithinMs: reopenWindowsMs(notifyConfig.reopenWithinS),
    facilities: city, facilityConfig: rulesConfig.facilityHealth, deviceConfig: rulesConfig.deviceHealth, slaMs: rulesConfig.workOrderSlaMs,
  });
  readingListeners.push((reading, device) => health.monitor.onReading(reading, device));
  // A facility's own thresholds take effect from the reading after the import that set them.
  inventory.onImported(() => health.facilityThresholds.refresh());

  // Backpressure under overload (intake-control.ts): checked after each durable append, every
  // 2,048 readings, and every 20 ms while the sockets are held, so they are read again as soon
  // as InfluxDB caught up. The broker's part is wired once it exists.
  let holdIntake: (hold: boolean) => void = () => undefined;
  let intakeHeld = (): boolean => false;
  const intake = createIntakeControl({
    maxBacklog: config.intakeMaxBacklog,
    backlogLines: () => durableLog.backlog().lines + durableLog.unwrittenLines(),
    // Storing, if slowly: a write succeeded lately. A starved InfluxDB times out now and then;
    // one that stored nothing for 10 s is out, and the durable log keeps what arrives.
    storageUp: () => Date.now() - lastStoredAt < 10_000,
    now: () => Date.now(),
    hold: (hold) => holdIntake(hold),
    held: () => intakeHeld(),
    onChange: (held, backlog) => {
      metrics.intakeHeld.set(held ? 1 : 0);
      if (held) metrics.intakeHolds.inc();
      logger.debug({ module: 'intake', held, backlog }, held ? 'InfluxDB behind: MQTT intake held' : 'MQTT intake resumed');
    },
  });
  const stopIntakeChecks = durableLog.onWritten(() => intake.check());
  const intakeTimer = setInterval(() => { if (intakeHeld()) intake.check(); }, 20).unref();
  const ingest = createIngest({
    onReading: (reading, device) => {
      for (let i = 0; i < readingListeners.length; i++) readingListeners[i]!(reading, device);
    },
    lookup: devices,
    append: (lines) => durableLog.append(lines),
    syncPoint: () => durableLog.syncPoint(),
    appendLine: (line, sync) => {
      const done = durableLog.appendLine(line, sync);
      // Under a flood thousands of readings arrive between two commits: look at the backlog
      // every so many too, so the intake is held before they pile up.
      if (++appendsSinceCheck >= 2_048) {
        appendsSinceCheck = 0;
        intake.check();
      }
      return done;
    },
    deadLetter: (letter) => deadLetters.add(letter),
    metrics,
    clock,
    logger: logger.child({ module: 'ingest' }),
    limits: { maxFutureSkewMs: config.maxFutureSkewS * 1000, maxPastAgeMs: config.maxPastAgeS * 1000, maxPayloadBytes: config.maxPayloadBytes },
  });

  const broker = await createMqttBroker({
    host: config.mqttHost,
    port: config.mqttPort,
    logger: logger.child({ module: 'broker' }),
    metrics,
    authenticateDevice: (id, secret) => devices.authenticate(id, secret),
    getDevice: (id) => devices.get(id),
    isReadingTopic: ingest.isReadingTopic,
    ingest: ingest.submit,
    services: serviceAccounts,
    now: () => clock.now(),
    ...brokerOptionsFromConfig(config),
  });
  // The broker exists from here: the intake control may hold its sockets.
  holdIntake = (hold) => broker.holdIntake(hold);
  intakeHeld = () => broker.isIntakeHeld();
  // A device retired by an inventory import loses its live connection too, not just its next CONNECT.
  inventory.onDevicesRemoved((ids) => { for (const id of ids) broker.disconnectDevice(id); });
  const lifecycle = createDeviceLifecycle(db, { devices, disconnect: (id) => broker.disconnectDevice(id) });

  const source = config.mqttSource
    ? await startMqttSource({
      url: config.mqttSource,
      clientId: config.mqttSourceClientId,
      group: config.mqttSourceGroup,
      connections: config.mqttSourceConnections,
      logger: logger.child({ module: 'mqtt-source' }),
      ingest: (msg) => ingest.handle(msg),
    })
    : undefined;

  // Notifications: own timers and outbox loop, never on the ingest path. The alert
  // lifecycle feeds it every transition.
  const notifications = createNotificationService({
    db, config: notifyConfig, teamsFor: city.teamsFor, clock, random: Math.random, logger, registry: metrics.registry,
  });
  notifications.start();
  health.alerts.onTransition((transition) => notifications.onTransition(transition));

  // Irrigation: valve faults and manual-zone watering alerts go through the alert service.
  const irrigation = await startIrrigation({
    db, broker, append: (lines) => durableLog.append(lines), readingListeners, clock, logger, settings: options.irrigation, time: options.irrigationTime,
    signal: (alert) => health.alerts.apply(alert),
  });

  // Weather (GS_WEATHER_URL): forecast rain and frost into the zones' forecast input; ET0 for the controller.
  const weather = startWeather({
    config, db, city, zones: irrigation.forecasts, clock, logger, registry: metrics.registry, options: options.weather,
  });

  const api: FastifyInstance = await buildApi({
    logger,
    metrics,
    adminToken,
    devices,
    deadLetters,
    health,
    irrigation: irrigation.engine,
    tokens,
    serviceAccounts,
    lifecycle,
    disconnectService: (id) => broker.disconnectService(id),
    authFailureLimits: { burst: config.apiAuthFailureBurst, ratePerS: config.apiAuthFailuresPerMin / 60 },
    now: () => clock.now(),
    inventory,
    readiness: { influxdb: () => influx.ping(), broker: () => broker.isListening(), durableLog: () => durableLog.readiness() },
    notifications: { outbox: notifications.outbox, silences: notifications.silences, clock },
  });
  await api.listen({ port: config.httpPort, host: config.httpHost });
  const httpPort = (api.server.address() as { port: number }).port;
  const apiHost = ['0.0.0.0', '::'].includes(config.httpHost) ? '127.0.0.1' : config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost;
  dataDirLock.setUrl(`http://${apiHost}:${httpPort}`);
  logger.info({ mqttPort: broker.port, httpPort, influxUrl, dataDir }, 'greenspace started');

  let stopping: Promise<void> | undefined;
  return {
    mqttPort: broker.port,
    /** Every bound MQTT listener: tcp always; tls, ws, wss when configured. */
    mqttPorts: broker.ports,
    httpPort,
    influxUrl,
    adminToken,
    api,
    broker,
    devices,
    city,
    inventory,
    durableLog,
    metrics,
    notifications,
    health,
    irrigation: irrigation.engine,
    /** The weather feed, when GS_WEATHER_URL is set. */
    weather,
    /** Orderly stop: no new readings, pending appends durable, backlog shipped within the deadline. */
    stop(options: { drainMs?: number } = {}): Promise<void> {
      stopping ??= (async () => {
        clearInterval(backlogTimer);
        clearInterval(intakeTimer);
        stopIntakeChecks();
        holdIntake(false);
        holdIntake = () => undefined; // stopping: never held again, whatever the backlog
        // Inputs first (no reading, ack or request arrives at a stopped engine), then the
        // engines flush their state and points into the log, then the log drains.
        await source?.close();
        await broker.close();
        await api.close();
        await weather?.stop();
        await irrigation.stop();
        await health.stop();
        await notifications.stop();
        stopIngestStats();
        await durableLog.flush();
        const drained = await shipper.drain(options.drainMs ?? 5_000);
        if (!drained) logger.warn({ backlog: durableLog.backlog() }, 'stopping with points still on disk; they are sent at the next start');
        await shipper.stop();
        // A failed last fdatasync costs only QoS 0 points against a power cut: say so, and stop the rest.
        await durableLog.close().catch((error: unknown) => logger.error({ err: error }, 'durable log not synced at stop: QoS 0 points since the last sync may not survive a power cut'));
        deadLetters.close();
        db.close();
        await managed?.stop();
        dataDirLock.release();
        logger.info('greenspace stopped');
      })();
      return stopping;
    },
  };
}

/** The bootstrap admin token: from config, else generated once into the data dir (0600). */
function loadOrCreateAdminToken(dataDir: string, logger: Logger): string {
  const path = join(dataDir, 'admin-token');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const token = randomBytes(24).toString('base64url');
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  logger.info({ path }, 'generated the admin API token; set GS_ADMIN_TOKEN to choose your own');
  return token;
}
