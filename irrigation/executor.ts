import type { AlertSignal } from '../contracts/alert.ts';
import { deviceTopic } from '../contracts/topics.ts';
import type { Logger } from '../lib/logger.ts';
import type { DecideContext, IrrigationAction } from '../rules/irrigation/state.ts';
import type { IrrigationStore } from './store.ts';
import { toWateringLine } from './watering-line.ts';

export interface ExecutorDeps {
  store: Pick<IrrigationStore, 'addDecision' | 'addSignal'>;
  /** Publish a command (QoS 1) through the broker. */
  publish: (topic: string, payload: string) => Promise<void>;
  /** Points for InfluxDB, through the durable log. */
  appendLines: (lines: string[]) => Promise<void>;
  signal: (alert: AlertSignal) => void;
  logger: Logger;
}

/**
 * The executor: applies one action the decider returned (balena's planner/executor split).
 * A valve command goes out through the broker, a record to the store and InfluxDB, an alert
 * signal to the zone's history and the alert service. Nothing here decides anything.
 */
export function createExecutor(deps: ExecutorDeps) {
  const { store, logger } = deps;
  return function apply(action: IrrigationAction, ctx: DecideContext): void {
    switch (action.type) {
      case 'command': {
        if (!action.valveId) {
          logger.error({ zoneId: ctx.zone.id, command: action.command }, 'valve command for a zone without a valve dropped');
          return;
        }
        const payload = JSON.stringify(action.command);
        logger.info({ zoneId: ctx.zone.id, valveId: action.valveId, command: action.command }, 'valve command');
        deps.publish(deviceTopic(action.valveId, 'down'), payload).catch((error: unknown) => logger.error({ err: error, valveId: action.valveId }, 'valve command publish failed'));
        return;
      }
      case 'record': {
        const d = action.decision;
        logger.info({ zoneId: d.zoneId, action: d.action, reason: d.reason, actor: d.actor, moisture: d.inputs.moisture }, 'irrigation decision');
        store.addDecision(d);
        deps.appendLines([toWateringLine(d, ctx.zone)]).catch((error: unknown) => logger.error({ err: error, zoneId: d.zoneId }, 'watering point not logged'));
        return;
      }
      case 'signal':
        store.addSignal(action.signal); // the zone's own history, whatever the alert service does with it
        try {
          deps.signal(action.signal);
        } catch (error) {
          logger.error({ err: error, signal: action.signal }, 'alert signal port failed');
        }
    }
  };
}
