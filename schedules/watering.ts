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
  }, { name: 'watering-tick', noOverlap: true, timezone });
  return {
    async stop() {
      await task.stop();
      await task.destroy();
    },
  };
}
