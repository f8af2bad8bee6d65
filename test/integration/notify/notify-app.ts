import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { Config } from '../../../config/config.ts';
import { createLogger } from '../../../lib/logger.ts';
import { startApp, type App } from '../../../app.ts';
import { NotifyConfig, type NotifyConfigInput } from '../../../notify/config.ts';
import { ADMIN_TOKEN, uniqueDb } from '../../helpers/app.ts';

/** The whole app on free ports (as startTestApp) with a given notification config. */
export async function startNotifyApp(notify: NotifyConfigInput, options: { dataDir?: string; influxDb?: string } = {}): Promise<{ app: App; config: Config; dataDir: string }> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'gs-notify-'));
  const config = Config.parse({
    mqttHost: '127.0.0.1', mqttPort: 0, httpHost: '127.0.0.1', httpPort: 0,
    influxUrl: inject('influxUrl'), influxDb: options.influxDb ?? uniqueDb('n'), managedInfluxd: 'never',
    dataDir, adminToken: ADMIN_TOKEN, logLevel: process.env.GS_TEST_LOG ?? 'silent', writeFlushMs: 50,
  });
  const app = await startApp(config, createLogger(config.logLevel), { notify: NotifyConfig.parse(notify) });
  return { app, config, dataDir };
}
