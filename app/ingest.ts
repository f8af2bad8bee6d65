import { createProfileSet, loadProfiles } from '../ingest/profile-set.ts';
import { hostname } from 'node:os';
import { createIngest } from '../ingest/pipeline.ts';
import { createIntakeControl } from '../ingest/intake-control.ts';
import { createIngestStatsWriter } from '../ingest/stats-writer.ts';
import type { createDeadLetterStore } from '../ingest/dead-letters.ts';
import type { createDeviceRegistry } from '../registry/devices.ts';
import { createListeners } from '../lib/listeners.ts';
import type { DurableLogFeature } from './durable-log.ts';
import type { AppContext } from './context.ts';
import type { SharedDedup } from '../ingest/shared-dedup.ts';
import type { AcceptedReading } from '../contracts/reading.ts';
import type { DeviceInfo } from '../contracts/device.ts';

export interface IngestFeatureDeps {
  devices: ReturnType<typeof createDeviceRegistry>;
  deadLetters: Pick<ReturnType<typeof createDeadLetterStore>, 'add'>;
  log: DurableLogFeature;
  /** Clustered: the duplicate filter the nodes share (app/cluster.ts). */
  shared?: SharedDedup | undefined;
  /** Where accepted readings go; default the reading listeners (clustered: the relay to each community's owner, app/cluster.ts). */
  onReading?: (reading: AcceptedReading, device: DeviceInfo) => void;
}

/**
 * Reading → point: the ingest, its backpressure (the intake control, which holds the MQTT
 * sockets through whoever subscribes to `onHold` — the broker), and its counters written as
 * `ingest_stats` points. Accepted readings go to `ctx.readings`.
 */
export function startIngestFeature(ctx: AppContext, deps: IngestFeatureDeps) {
  const { config, logger, clock, metrics } = ctx;
  const { durableLog } = deps.log;

  // Backpressure under overload (intake-control.ts): checked after each durable append, every
  // 2,048 readings, and every 20 ms while the sockets are held, so they are read again as soon
  // as InfluxDB caught up.
  let held = false;
  let holding = true; // false once stopping: never held again, whatever the backlog
  const holders = createListeners<[boolean]>((name, error) => logger.error({ module: 'intake', holder: name, err: error }, 'intake holder failed'));
  const intake = createIntakeControl({
    maxBacklog: config.intakeMaxBacklog,
    backlogLines: () => durableLog.backlog().lines + durableLog.unwrittenLines(),
    // Storing, if slowly: a write succeeded lately. A starved InfluxDB times out now and then;
    // one that stored nothing for 10 s is out, and the durable log keeps what arrives.
    storageUp: () => Date.now() - deps.log.lastStoredAt() < 10_000,
    now: () => Date.now(),
    hold: (hold) => {
      if (hold && !holding) return;
      held = hold;
      holders.emit(hold);
    },
    held: () => held,
    onChange: (isHeld, backlog) => {
      metrics.intakeHeld.set(isHeld ? 1 : 0);
      if (isHeld) metrics.intakeHolds.inc();
      logger.debug({ module: 'intake', held: isHeld, backlog }, isHeld ? 'InfluxDB behind: MQTT intake held' : 'MQTT intake resumed');
    },
  });
  const stopIntakeChecks = durableLog.onWritten(() => intake.check());
  const intakeTimer = setInterval(() => { if (held) intake.check(); }, 20).unref();

  let appendsSinceCheck = 0;
  const { profiles: loaded, problems } = loadProfiles(config.deviceProfilesDir);
  if (problems.length > 0) throw new Error(`device profiles refused:\n${problems.join('\n')}`);
  const profileLog = logger.child({ module: 'device-profiles' });
  const profiles = createProfileSet(loaded, (device, profile) => profileLog.warn({ device, profile }, 'device names a profile not loaded (or of another kind): read with the generic field names'));
  profileLog.info({ profiles: loaded.length, operatorDir: config.deviceProfilesDir }, 'device profiles loaded');
  const ingest = createIngest({
    profiles,
    onReading: deps.onReading ?? ctx.readings.emit,
    lookup: deps.devices,
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
    deadLetter: (letter) => deps.deadLetters.add(letter),
    metrics,
    clock,
    logger: logger.child({ module: 'ingest' }),
    limits: { maxFutureSkewMs: config.maxFutureSkewS * 1000, maxPastAgeMs: config.maxPastAgeS * 1000, maxPayloadBytes: config.maxPayloadBytes },
    ...(deps.shared ? { shared: deps.shared } : {}),
  });

  const stopIngestStats = createIngestStatsWriter({ registry: metrics.registry, append: (lines) => durableLog.append(lines), now: () => clock.now(), instance: hostname(), logger: logger.child({ module: 'ingest-stats' }) })
    .start((fn, ms) => { const timer = setInterval(fn, ms).unref(); return () => clearInterval(timer); }, ctx.options.ingestStatsIntervalMs ?? 10_000);

  return {
    ingest,
    profiles,
    /** Who holds the MQTT intake (the broker): called with true to stop reading, false to resume. */
    onHold: (name: string, holder: (hold: boolean) => void): (() => void) => holders.add(name, holder),
    stop(): void {
      clearInterval(intakeTimer);
      stopIntakeChecks();
      holding = false;
      if (held) {
        held = false;
        holders.emit(false);
      }
      stopIngestStats();
    },
  };
}
