import { loadConfig, ConfigError } from './config/config.ts';
import { createLogger } from './lib/logger.ts';
import { startApp } from './app.ts';
import { loadNotifyConfig } from './alerts/notify/config.ts';

/** The process entry: configuration, the app, and signals. */
async function main(): Promise<void> {
  let config;
  let notify;
  try {
    config = loadConfig(process.env);
    notify = loadNotifyConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const app = await startApp(config, logger, { notify });
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
