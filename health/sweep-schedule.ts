import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../lib/logger.ts';
import { isolate } from '../lib/isolate.ts';

/**
 * The offline sweep, every minute by default: the smallest report interval is 10 s and
 * offline means k missed intervals, so a minute's lateness on top is within the noise of
 * radio delivery. A throw is logged and the next run still happens.
 */
export function scheduleHealthSweep(deps: { sweep(): void; logger: Logger }, expression = '* * * * *'): ScheduledTask {
  const log = deps.logger.child({ module: 'health-sweep' });
  return cron.schedule(expression, isolate(log, 'health-sweep', () => deps.sweep()), { name: 'health-sweep', noOverlap: true });
}
