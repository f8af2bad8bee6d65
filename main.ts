import { loadConfig, ConfigError } from './config/config.ts';
import { createLogger } from './lib/logger.ts';
import { startApp } from './app.ts';
import { loadNotifyConfig } from './notify/config.ts';
import { loadRulesConfig } from './health/rules-config.ts';
import { checkThreadpool } from './config/threadpool.ts';

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
  const logger = createLogger(config.logLevel);
  for (const message of deprecated) logger.warn({ module: 'config', deprecated: message }, 'deprecated setting name: it still works, rename it');
  logger.info({ threads: threadpool.threads, mqttAuthConcurrency: config.mqttAuthConcurrency, mqttAuthQueue: config.mqttAuthQueue }, 'libuv thread pool');
  const app = await startApp(config, logger, { notify, rules });
  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now; unsent points stay on disk');
      process.exit(1);
    }
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
