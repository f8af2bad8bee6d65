import type { Logger } from './logger.ts';

/**
 * Wrap a callback so that a throw (or rejection) is logged with context and goes no
 * further: one failing listener must not take down the publish path or a cron job.
 */
export function isolate<A extends unknown[]>(
  log: Logger,
  name: string,
  fn: (...args: A) => unknown,
): (...args: A) => void {
  return (...args: A) => {
    try {
      const out = fn(...args);
      if (out instanceof Promise) out.catch((error: unknown) => log.error({ err: error, task: name }, 'task failed'));
    } catch (error) {
      log.error({ err: error, task: name }, 'task failed');
    }
  };
}
