import { loadConfig, ConfigError } from './config/config.ts';
import { createLogger, resolveLogFormat } from './lib/logger.ts';
import { startApp } from './app.ts';
import { loadNotifyConfig } from './notify/config.ts';
import { loadRulesConfig } from './health/rules-config.ts';
import { checkThreadpool } from './config/threadpool.ts';
import { describeStartFailure } from './config/start-failure.ts';

/**
 * A second signal this soon after the first is the same request: Ctrl-C under `npm start`
 * reaches the app twice (the terminal signals the process group, and npm relays it).
 */
const SAME_SIGNAL_WITHIN_MS = 2_000;

/** The process entry: configuration, the app, and signals. */
async function main(): Promise<void> {
  // Every file is checked before any stops the start, so one run lists every bad value.
  const problems: string[] = [];
  const read = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const deprecated: string[] = [];
  const config = read(() => loadConfig(process.env, undefined, (message) => deprecated.push(message)));
  const notify = read(() => loadNotifyConfig(process.env));
  const rules = read(() => loadRulesConfig(process.env));
  // libuv sized its thread pool before this module was evaluated (the ESM loader's own
  // async reads start it), from UV_THREADPOOL_SIZE as the operator or the `--require`
  // preload npm start uses (config/threadpool-preload.cjs) left it: setting it here would
  // change nothing. What is left is to refuse a pool that differs from the configuration.
  const threadpool = config ? checkThreadpool(config, process.env.UV_THREADPOOL_SIZE) : undefined;
  problems.push(...(threadpool?.problems ?? []));
  if (!config || !notify || !rules || !threadpool || problems.length > 0) {
    process.stderr.write(`${new ConfigError(problems).message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel, undefined, resolveLogFormat(config.logFormat, process.stdout.isTTY));
  for (const message of deprecated) logger.warn({ module: 'config', deprecated: message }, 'deprecated setting name: it still works, rename it');
  logger.info({ threads: threadpool.threads, mqttAuthConcurrency: config.mqttAuthConcurrency, mqttAuthQueue: config.mqttAuthQueue }, 'libuv thread pool');
  let app: Awaited<ReturnType<typeof startApp>>;
  try {
    app = await startApp(config, logger, { notify, rules });
  } catch (error) {
    // Every feature that had started is stopped by now (a managed influxd included).
    const failure = describeStartFailure(error, config);
    logger.error({ err: error }, 'start failed');
    process.stderr.write(`greenspace failed to start: ${failure.message}\n${failure.unexpected ? `${(error as Error).stack ?? ''}\n` : ''}`);
    process.exit(1);
  }
  let firstSignalAt: number | undefined;
  const shutdown = (signal: string) => {
    if (firstSignalAt !== undefined) {
      if (Date.now() - firstSignalAt < SAME_SIGNAL_WITHIN_MS) return; // the same stop, relayed
      logger.warn({ signal }, 'second signal: exiting now; unsent points stay on disk');
      process.exit(1);
    }
    firstSignalAt = Date.now();
    logger.info({ signal }, 'stopping');
    app.stop().then(() => process.exit(0), (error: unknown) => {
      logger.error({ err: error }, 'stop failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`greenspace failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
