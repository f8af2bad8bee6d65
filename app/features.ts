import type { Logger } from '../lib/logger.ts';
import { CodedError } from '../lib/errors.ts';

/** A feature did not start: its name, and the error it threw (as `cause`, and its message as this one's). */
export class FeatureStartError extends CodedError {
  readonly feature: string;
  constructor(feature: string, cause: unknown) {
    super('feature_start_failed', cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'FeatureStartError';
    this.feature = feature;
  }
}

/** How the app is asked to stop; every feature's stop receives it. */
export interface StopOptions {
  /** How long the durable log may take to ship its backlog before the process goes (default 5 s). */
  drainMs?: number;
}

/** What a started feature gives back: its products, and how to stop it (none: nothing to stop). */
export interface Started {
  stop?: (options: StopOptions) => Promise<void> | void;
}

/**
 * Starts the app's features one by one, each in its own guard, and stops them in reverse
 * (zigbee2mqtt's controller does the same with its extensions). A feature that fails to
 * start stops the ones already running, so a failed start releases the data directory,
 * the ports and a managed influxd, and the error goes to the caller as a FeatureStartError
 * naming the feature (main.ts turns it into the setting to change). A stop that
 * fails is logged with the feature's name and the others still stop.
 */
export function createFeatureRunner(logger: Logger) {
  const running: Array<{ name: string; stop?: NonNullable<Started['stop']> }> = [];
  let stopping: Promise<void> | undefined;

  const stopAll = (options: StopOptions = {}): Promise<void> => {
    stopping ??= (async () => {
      while (running.length > 0) {
        const { name, stop } = running.pop()!;
        try {
          await stop?.(options);
        } catch (error) {
          logger.error({ feature: name, err: error }, 'feature failed to stop; stopping the others');
        }
      }
    })();
    return stopping;
  };

  return {
    /** Start one feature; its products are returned as the feature gave them. */
    async start<T extends Started>(name: string, start: () => Promise<T> | T): Promise<T> {
      if (stopping) throw new Error(`feature ${name} started after the app began to stop`);
      let started: T;
      try {
        started = await start();
      } catch (error) {
        logger.error({ feature: name, err: error }, 'feature failed to start; stopping the features already running');
        await stopAll();
        throw new FeatureStartError(name, error);
      }
      const stop = started.stop;
      running.push({ name, stop: stop && ((options) => stop.call(started, options)) });
      return started;
    },
    /** The running features, in start order (for tests and the start log). */
    names: (): string[] => running.map((f) => f.name),
    stopAll,
  };
}
