import type { Logger } from './logger.ts';

/**
 * Log a loop's failures once per spell, not at every round: a store away for minutes would
 * otherwise write the same error every second. The first failure is an error, the repeats
 * debug, and the first success after them says the spell is over and how many rounds it took.
 */
export function createFailureSpell(logger: Logger, failedMessage: string, backMessage: string) {
  let failures = 0;
  return {
    failed(error: unknown): void {
      if (failures++ === 0) logger.error({ err: error }, failedMessage);
      else logger.debug({ err: error, failures }, failedMessage);
    },
    succeeded(): void {
      if (failures > 0) logger.info({ failures }, backMessage);
      failures = 0;
    },
  };
}
