import { openDurableLog } from '../durable-log/durable-log.ts';
import { startShipperThread } from '../durable-log/shipper-thread.ts';
import { prepareDurableLogDir } from '../durable-log/location.ts';
import { recordRejection, type createDeadLetterStore } from '../ingest/dead-letters.ts';
import type { AppContext } from './context.ts';
import { influxTarget } from './influxdb.ts';
import type { StopOptions } from './features.ts';
import type { Replica } from '../durable-log/replica.ts';

/** A replica of the log (clustered mode), closed by the log's stop once it knows whether everything was shipped. */
export interface AttachedReplica {
  replica: Replica;
  close(drained: boolean): Promise<void>;
}

export interface DurableLogFeatureDeps {
  dataDir: string;
  influxUrl: string;
  deadLetters: Pick<ReturnType<typeof createDeadLetterStore>, 'add'>;
}

/**
 * The durable log (every point on local disk before a QoS 1 PUBACK) and its shipper to
 * InfluxDB, in its own thread: a flood of MQTT traffic saturating this event loop must not
 * starve the requests that move points to InfluxDB. Stopping drains the backlog within the
 * deadline; what is left is sent at the next start.
 */
export async function startDurableLogFeature(ctx: AppContext, deps: DurableLogFeatureDeps) {
  const { config, logger, clock, metrics } = ctx;
  let lastStoredAt = Number.NEGATIVE_INFINITY;
  const dir = prepareDurableLogDir(deps.dataDir, (move) => logger.warn({ module: 'durable-log', ...move }, 'durable log found under its old name'));
  const durableLog = await openDurableLog({
    dir,
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
  const shipper = startShipperThread({
    log: durableLog,
    dir,
    influx: influxTarget(config, deps.influxUrl),
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
    onRefused: (line, message) => recordRejection(metrics, deps.deadLetters.add, {
      at: clock.now(), reason: 'influx_refused', detail: message, deviceId: /[, ]device=([^, ]+)/.exec(line)?.[1], topic: undefined, payload: line,
    }),
    onStoredTimestamps: ctx.options.onStoredTimestamps,
  });
  const backlogTimer = setInterval(() => {
    const b = durableLog.backlog();
    metrics.durableLogBacklogPoints.set(b.lines);
    metrics.durableLogBacklogBytes.set(b.bytes);
    metrics.durableLogOldestAge.set(b.oldestAgeMs / 1000);
  }, 1_000).unref();

  let attached: AttachedReplica | undefined;
  return {
    durableLog,
    /**
     * Copy every write from now on (clustered mode, app/cluster.ts). The log's own stop
     * closes it, after the last write and the drain: it is the last thing a write waits for.
     */
    attachReplica(replica: AttachedReplica): void {
      attached = replica;
      durableLog.setReplica(replica.replica);
    },
    /** When InfluxDB last stored a batch (wall clock ms): the intake control's "storage up". */
    lastStoredAt: (): number => lastStoredAt,
    async stop(options: StopOptions): Promise<void> {
      clearInterval(backlogTimer);
      await durableLog.flush();
      const drained = await shipper.drain(options.drainMs ?? 5_000);
      if (!drained) logger.warn({ backlog: durableLog.backlog() }, 'stopping with points still on disk; they are sent at the next start');
      await shipper.stop();
      // A failed last fdatasync costs only QoS 0 points against a power cut: say so, and stop the rest.
      await durableLog.close().catch((error: unknown) => logger.error({ err: error }, 'durable log not synced at stop: QoS 0 points since the last sync may not survive a power cut'));
      durableLog.setReplica(undefined);
      await attached?.close(drained && durableLog.backlog().lines === 0);
    },
  };
}

export type DurableLogFeature = Awaited<ReturnType<typeof startDurableLogFeature>>;
