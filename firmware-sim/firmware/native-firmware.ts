import type { CommandAck } from '../../contracts/commands.ts';
import { deviceTopic } from '../../contracts/topics.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Random } from '../../lib/random.ts';
import type { SimDevice } from '../fleet/spec.ts';
import type { SimClock, Timers } from '../sim-clock.ts';
import type { World } from '../world.ts';
import type { BackoffPolicy } from './backoff.ts';
import { createConnection } from './connection.ts';
import { createOutbox, toPending } from './outbox.ts';
import { createReportLoop } from './report-loop.ts';
import type { SimStats } from './stats.ts';
import { handleValveCommand, parseJsonOrUndefined } from './valve-commands.ts';

export interface NativeFirmwareDeps {
  device: SimDevice;
  secret: string;
  url: string;
  world: World;
  clock: SimClock;
  timers: Timers;
  rng: Random;
  stats: SimStats;
  logger: Logger;
  backoff: BackoffPolicy;
  jitter?: number;
  outboxCapacity?: number;
  maxBatch?: number;
}

export type NativeFirmware = ReturnType<typeof createNativeFirmware>;

/**
 * A device speaking the native contract: readings on gs/{id}/up with `ts` and a monotonic
 * `seq`, QoS 1, one message in flight; while disconnected readings wait in the outbox and
 * go out as JSON-array batches once the connection is back. Valves obey gs/{id}/down.
 */
export function createNativeFirmware(deps: NativeFirmwareDeps) {
  const { device, world, clock, stats } = deps;
  const up = deviceTopic(device.id, 'up');
  const down = deviceTopic(device.id, 'down');
  const maxBatch = deps.maxBatch ?? 100;
  const outbox = createOutbox({ capacity: deps.outboxCapacity ?? 5_000, onDrop: (n) => { stats.dropped += n; } });
  let seq = 0;
  let sending = false;
  let cancelAutoOff: (() => void) | undefined;

  const connection = createConnection({
    url: deps.url,
    id: device.id,
    secret: deps.secret,
    backoff: deps.backoff,
    rng: deps.rng,
    timers: deps.timers,
    now: () => clock.now(),
    subscriptions: device.kind === 'valve' ? [down] : [],
    onConnect: () => pump(),
    onMessage: (topic, payload) => { if (topic === down) onCommand(payload); },
    events: {
      connected: (first) => { stats.connects++; if (!first) stats.reconnects++; },
      connectFailed: () => { stats.connectFailures++; },
    },
    logger: deps.logger,
  });

  /** Send the outbox head while connected, one message at a time so order is kept. */
  function pump(): void {
    if (sending || !connection.isConnected()) return;
    const msg = outbox.take(maxBatch);
    if (!msg) return;
    sending = true;
    const n = msg.items.length;
    stats.sent += n;
    if (n > 1) { stats.batches++; stats.batchedReadings += n; }
    connection.publish(up, msg.payload, { qos: 1 }).then(
      () => { stats.acked += n; },
      () => outbox.restore(msg), // not acknowledged: it goes again, the ingest dedups by (seq, ts)
    ).finally(() => {
      sending = false;
      pump();
    });
  }

  function report(): void {
    const payload = world.report(device.id, clock.now(), seq);
    if (payload === undefined) {
      stats.silent++;
      return;
    }
    seq++;
    stats.generated++;
    outbox.push(toPending(payload));
    pump();
  }

  function onCommand(payload: Buffer): void {
    stats.commandsReceived++;
    const outcome = handleValveCommand(world, device.id, parseJsonOrUndefined(payload), clock.now());
    if (!outcome.obeyed) {
      stats.commandsRejected++;
      if (outcome.ack) sendAck(outcome.ack);
      return;
    }
    stats.commandsObeyed++;
    sendAck(outcome.ack);
    report(); // the state change goes out at once, not at the next interval
    cancelAutoOff?.();
    cancelAutoOff = outcome.closeAt === undefined ? undefined : clock.after(outcome.closeAt - clock.now() + 1, report);
  }

  function sendAck(ack: CommandAck): void {
    connection.publish(deviceTopic(device.id, 'ack'), JSON.stringify(ack), { qos: 1 }).then(
      () => { stats.acksSent++; },
      (error: Error) => deps.logger.debug({ device: device.id, err: error.message }, 'ack not delivered'),
    );
  }

  const loop = createReportLoop({ intervalS: device.reportIntervalS, jitter: deps.jitter ?? 0.1, clock, rng: deps.rng, report });

  return {
    device,
    connection,
    outboxSize: () => outbox.size(),
    /** Readings so far; the next one gets this number. */
    seq: () => seq,
    start(): void {
      connection.start();
      loop.start();
    },
    /** Stop taking readings but keep the session (drain the backlog before a stop). */
    stopReporting: (): void => loop.stop(),
    /** Report now, outside the schedule (tests, scenario events). */
    reportNow: report,
    async stop(): Promise<void> {
      loop.stop();
      cancelAutoOff?.();
      await connection.stop();
    },
  };
}
