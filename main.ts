import { loadConfig, ConfigError } from './config/config.ts';
import { createLogger } from './lib/logger.ts';
import { startApp } from './app.ts';
import { loadNotifyConfig } from './alerts/notify/config.ts';
import { loadRulesConfig } from './alerts/rules-config.ts';

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
  const config = read(() => loadConfig(process.env));
  const notify = read(() => loadNotifyConfig(process.env));
  const rules = read(() => loadRulesConfig(process.env));
  if (!config || !notify || !rules) {
    process.stderr.write(`${new ConfigError(problems).message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
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
