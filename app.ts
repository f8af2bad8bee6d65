import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
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
import { openDurableLog } from './ingest/durable-log.ts';
import { createInfluxShipper } from './ingest/influx-shipper.ts';
import { createDeadLetterStore } from './ingest/dead-letters.ts';
import { createIngest, isReadingTopic } from './ingest/pipeline.ts';
import { createMqttBroker } from './broker/create-broker.ts';
import { buildApi } from './api/build-api.ts';
import type { AcceptedReading } from './contracts/reading.ts';
import type { DeviceInfo } from './contracts/device.ts';

export type App = Awaited<ReturnType<typeof startApp>>;

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolvePromise, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolvePromise(); }, ms);
    const onAbort = () => { clearTimeout(timer); reject(signal.reason); };
    signal.addEventListener('abort', onAbort, { once: true });
  });

/**
 * The composition root: the one place that knows every concrete part and wires them.
 * Returns the running app (bound ports, its parts for tests) and an orderly stop.
 */
export async function startApp(config: Config, logger: Logger, options: { clock?: Clock } = {}) {
  const clock = options.clock ?? systemClock;
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const metrics = createMetrics();
  const adminToken = config.adminToken ?? loadOrCreateAdminToken(dataDir, logger);

  const db = openDb(join(dataDir, 'greenspace.db'));
  const devices = createDeviceRegistry(db);
  const inventory = createInventoryService({ db, now: () => clock.now(), devices });
  const city = createCityRegistry(db); // zones, facilities, teams, gateways for the features that need them
  const deadLetters = createDeadLetterStore(db, { maxRows: 100_000 });

  // InfluxDB: the configured one, or a managed loopback influxd when nothing answers.
  let influxUrl = config.influxUrl;
  let managed: InfluxdHandle | undefined;
  const probe = createInfluxHttp({ url: influxUrl, db: config.influxDb, token: config.influxToken });
  if (!(await probe.ping())) {
    const target = new URL(influxUrl);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname);
    if (config.managedInfluxd === 'auto' && loopback && findInfluxd()) {
      const port = Number(target.port || 8086);
      logger.info({ module: 'influxd', port, dir: join(dataDir, 'influxdb') }, 'no InfluxDB answering; starting a managed influxd');
      managed = await startInfluxd({ dir: join(dataDir, 'influxdb'), port });
      influxUrl = managed.url;
    } else if (!findInfluxd()) {
      logger.warn({ module: 'influxd', hint: INSTALL_HINT }, 'InfluxDB unreachable and not installed; readings are kept on disk until it is');
      process.stderr.write(`\n${INSTALL_HINT}\n\n`);
    } else {
      logger.warn({ module: 'influxd', url: influxUrl }, 'InfluxDB unreachable; readings are kept on disk until it answers');
    }
  }
  const influx = createInfluxHttp({ url: influxUrl, db: config.influxDb, token: config.influxToken });

  const wal = await openDurableLog({
    dir: join(dataDir, 'wal'),
    clock,
    fsync: config.durableAck,
    maxBytes: config.spoolMaxBytes,
    onDrop: (lines, bytes) => {
      metrics.spoolDropped.inc(lines);
      logger.error({ module: 'spool', lines, bytes, budget: config.spoolMaxBytes }, 'spool over its disk budget: oldest points dropped');
    },
  });
  const shipper = createInfluxShipper({
    log: wal,
    influx,
    batchSize: config.writeBatchSize,
    flushMs: config.writeFlushMs,
    logger: logger.child({ module: 'shipper' }),
    metrics: {
      pointsWritten: (n) => metrics.pointsWritten.inc(n),
      writeError: (kind) => metrics.writeErrors.inc({ kind }),
      writeDuration: (s) => metrics.writeDuration.observe(s),
      influxUp: (up) => metrics.influxUp.set(up ? 1 : 0),
    },
    onRefused: (line, message) => {
      metrics.readingsRejected.inc({ reason: 'influx_refused' });
      metrics.deadLetters.inc({ reason: 'influx_refused' });
      deadLetters.add({ at: clock.now(), reason: 'influx_refused', detail: message, deviceId: /[, ]device=([^, ]+)/.exec(line)?.[1], topic: undefined, payload: line });
    },
    sleep,
    random: Math.random,
    now: () => clock.now(),
  });
  shipper.start();
  const backlogGauges = () => {
    const b = wal.backlog();
    metrics.spoolBacklogPoints.set(b.lines);
    metrics.spoolBacklogBytes.set(b.bytes);
    metrics.spoolOldestAge.set(b.oldestAgeMs / 1000);
  };
  const backlogTimer = setInterval(backlogGauges, 1_000).unref();

  // Readings reach the rules through listeners registered here (ingest never imports rules).
  const readingListeners: Array<(reading: AcceptedReading, device: DeviceInfo) => void> = [];
  const ingest = createIngest({
    onReading: (reading, device) => {
      for (const listener of readingListeners) listener(reading, device);
    },
    lookup: devices,
    append: (lines) => wal.append(lines),
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
    isReadingTopic,
    ingest: (msg) => ingest.handle(msg),
  });

  const api: FastifyInstance = await buildApi({
    logger,
    metrics,
    adminToken,
    devices,
    deadLetters,
    inventory,
    readiness: { influxdb: () => influx.ping(), broker: () => broker.isListening() },
  });
  await api.listen({ port: config.httpPort, host: config.httpHost });
  const httpPort = (api.server.address() as { port: number }).port;
  logger.info({ mqttPort: broker.port, httpPort, influxUrl, dataDir }, 'greenspace started');

  let stopping: Promise<void> | undefined;
  return {
    mqttPort: broker.port,
    httpPort,
    influxUrl,
    adminToken,
    api,
    broker,
    devices,
    city,
    inventory,
    wal,
    metrics,
    /** Orderly stop: no new readings, pending appends durable, backlog shipped within the deadline. */
    stop(options: { drainMs?: number } = {}): Promise<void> {
      stopping ??= (async () => {
        clearInterval(backlogTimer);
        await broker.close();
        await api.close();
        await wal.flush();
        const drained = await shipper.drain(options.drainMs ?? 5_000);
        if (!drained) logger.warn({ backlog: wal.backlog() }, 'stopping with points still on disk; they are sent at the next start');
        await shipper.stop();
        await wal.close();
        deadLetters.close();
        db.close();
        await managed?.stop();
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
