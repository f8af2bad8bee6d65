import type { AlertSignal } from '../contracts/alert.ts';
import { deviceTopic } from '../contracts/topics.ts';
import type { Logger } from '../lib/logger.ts';
import type { DecideContext, IrrigationAction } from '../rules/irrigation/state.ts';
import type { IrrigationStore } from './store.ts';
import { toWateringLine } from './watering-line.ts';
import type { WriteQueue } from './write-queue.ts';

export interface ExecutorDeps {
  store: Pick<IrrigationStore, 'addDecision' | 'addSignal'>;
  /** The engine's writes, in decision order (irrigation/write-queue.ts). */
  writes: Pick<WriteQueue, 'push'>;
  /**
   * Awaited before a command is published, for at most COMMAND_WAIT_MS (the shared store: the
   * state that shows the run committed first); absent, commands go at once.
   */
  beforeCommand?: () => Promise<void>;
  /**
   * Whether a newer owner of the community refused this node's writes (irrigation/fence.ts):
   * its decisions and signals queued since are not written, and its commands waiting for the
   * writes before them (beforeCommand) are dropped. Absent: never.
   */
  isFenced?: (communityId: string) => boolean;
  /** Publish a command (QoS 1) through the broker. */
  publish: (topic: string, payload: string) => Promise<void>;
  /** Points for InfluxDB, through the durable log. */
  appendLines: (lines: string[]) => Promise<void>;
  signal: (alert: AlertSignal) => void;
  logger: Logger;
}

/**
 * How long a command waits for the writes before it (beforeCommand). A PostgreSQL that does
 * not answer fails each write only after its 5 s connect timeout; a close must not wait for a
 * queue of those, so past this bound the command goes and the valve's water is bounded as
 * always (ack supervision, auto-off).
 */
export const COMMAND_WAIT_MS = 2_000;

/**
 * The executor: applies one action the decider returned (balena's planner/executor split).
 * A valve command goes out through the broker, a record to the store and InfluxDB, an alert
 * signal to the zone's history and the alert service. Nothing here decides anything.
 */
export function createExecutor(deps: ExecutorDeps) {
  const { store, logger } = deps;
  // Commands that wait still leave in the order they were decided (an open never after its close).
  let commands: Promise<void> = Promise.resolve();
  const afterWrites = (before: () => Promise<void>): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, COMMAND_WAIT_MS); });
    return Promise.race([before(), late]).finally(() => clearTimeout(timer));
  };
  const fenced = (ctx: DecideContext): boolean => deps.isFenced?.(ctx.zone.communityId) ?? false;
  /** A write skipped once the zone's community is fenced off here (checked when its turn in the queue comes). */
  const unlessFenced = (ctx: DecideContext, write: () => Promise<void>) => async (): Promise<void> => { if (!fenced(ctx)) await write(); };
  const publishUnlessFenced = (ctx: DecideContext, valveId: string, topic: string, payload: string): Promise<void> => {
    if (!fenced(ctx)) return deps.publish(topic, payload);
    logger.warn({ zoneId: ctx.zone.id, valveId, communityId: ctx.zone.communityId }, 'valve command dropped: a newer owner of the community refused this node\'s writes');
    return Promise.resolve();
  };
  const apply = (action: IrrigationAction, ctx: DecideContext): void => {
    switch (action.type) {
      case 'command': {
        if (!action.valveId) {
          logger.error({ zoneId: ctx.zone.id, command: action.command }, 'valve command for a zone without a valve dropped');
          return;
        }
        const payload = JSON.stringify(action.command);
        logger.info({ zoneId: ctx.zone.id, valveId: action.valveId, command: action.command }, 'valve command');
        const topic = deviceTopic(action.valveId, 'down');
        const before = deps.beforeCommand;
        // The wait for the writes starts now, not after the previous command left: while the
        // store is slow, commands go out together after one COMMAND_WAIT_MS, not 2 s apart each.
        const ready = before ? afterWrites(before) : undefined;
        // Checked after the writes before it: the state that shows this command may have been refused.
        const sent = ready ? commands.then(() => ready).then(() => publishUnlessFenced(ctx, action.valveId!, topic, payload)) : deps.publish(topic, payload);
        if (ready) commands = sent.catch(() => undefined);
        sent.catch((error: unknown) => logger.error({ err: error, valveId: action.valveId }, 'valve command publish failed'));
        return;
      }
      case 'record': {
        const d = action.decision;
        logger.info({ zoneId: d.zoneId, action: d.action, reason: d.reason, actor: d.actor, moisture: d.inputs.moisture }, 'irrigation decision');
        deps.writes.push('decision', unlessFenced(ctx, () => store.addDecision(d)), { zoneId: d.zoneId });
        deps.appendLines([toWateringLine(d, ctx.zone)]).catch((error: unknown) => logger.error({ err: error, zoneId: d.zoneId }, 'watering point not logged'));
        return;
      }
      case 'signal': {
        const signal = action.signal;
        deps.writes.push('signal', unlessFenced(ctx, () => store.addSignal(signal)), { subject: signal.subject }); // the zone's own history, whatever the alert service does with it
        try {
          deps.signal(signal);
        } catch (error) {
          logger.error({ err: error, signal }, 'alert signal port failed');
        }
      }
    }
  };
  /** Settles once every command that waits (beforeCommand) has been handed to the broker. */
  return Object.assign(apply, { sent: (): Promise<void> => commands });
}
