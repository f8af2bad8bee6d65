import cron from 'node-cron';
import type { Logger } from '../lib/logger.ts';

/** The job: evaluate every zone once (watering windows open on minute boundaries). */
export const wateringTick = async (deps: { tick: () => void }): Promise<void> => {
  deps.tick();
};

/**
 * Schedule the watering tick with node-cron (every minute by default). Deadlines inside
 * a run (ack timeouts, soaks, run ends) are timers the engine sets per zone; this job
 * catches what no event announces: a window opening, a sensor going stale.
 */
export function startWateringSchedule(deps: { tick: () => void; logger: Logger }, expression = '* * * * *', timezone?: string): { stop(): Promise<void> } {
  const task = cron.schedule(expression, async () => {
    try {
      await wateringTick(deps);
    } catch (error) {
      deps.logger.error({ err: error, task: 'watering-tick' }, 'task failed');
    }
  }, {
    name: 'watering-tick',
    noOverlap: true,
    timezone,
    // node-cron's own messages (a missed tick under load) go to pino, not the console.
    logger: {
      info: (message) => deps.logger.info({ task: 'watering-tick', detail: message }, 'node-cron'),
      warn: (message) => deps.logger.warn({ task: 'watering-tick', detail: message }, 'node-cron'),
      error: (message, err) => deps.logger.error({ task: 'watering-tick', detail: String(message), err }, 'node-cron'),
      debug: (message) => deps.logger.debug({ task: 'watering-tick', detail: String(message) }, 'node-cron'),
    },
  });
  return {
    async stop() {
      await task.stop();
      await task.destroy();
    },
  };
}
