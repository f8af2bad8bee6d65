import { join } from 'node:path';
import { ENV_NAMES, type Config } from '../config/config.ts';
import { createInfluxHttp, type InfluxTarget } from '../influx/http.ts';
import { checkInfluxServer } from '../influx/server-checks.ts';
import { findInfluxd, INSTALL_HINT, startInfluxd, type InfluxdHandle } from '../influx/influxd-process.ts';
import type { AppContext } from './context.ts';

/** Where the app writes and queries, from the settings (the v2 fields only for GS_INFLUX_API=v2). */
export function influxTarget(config: Config, url = config.influxUrl): InfluxTarget {
  return config.influxApi === 'v2'
    ? { url, db: config.influxDb, token: config.influxToken, api: 'v2', org: config.influxOrg, bucket: config.influxBucket }
    : { url, db: config.influxDb, token: config.influxToken };
}

const SETTING_NAMES = {
  api: ENV_NAMES.influxApi, url: ENV_NAMES.influxUrl, db: ENV_NAMES.influxDb, org: ENV_NAMES.influxOrg, bucket: ENV_NAMES.influxBucket, token: ENV_NAMES.influxToken,
};

/**
 * InfluxDB: the configured one, or a managed loopback influxd when nothing answers and
 * the binary is installed (1.x, so only for GS_INFLUX_API=v1). Absent, readings are kept on
 * disk (the durable log) until it is. One that answers is checked against the settings
 * first (influx/server-checks.ts): a wrong one stops the start, naming the setting.
 */
export async function startInfluxdb(ctx: AppContext, dataDir: string) {
  const { config, logger } = ctx;
  let url = config.influxUrl;
  let managed: InfluxdHandle | undefined;
  const check = await checkInfluxServer(influxTarget(config), SETTING_NAMES);
  if (check.reachable) {
    logger.info({ module: 'influxd', version: check.version, api: config.influxApi, dbrp: typeof check.dbrp === 'string' ? check.dbrp : 'missing' }, 'InfluxDB checked');
    if (typeof check.dbrp === 'object') {
      // Writes work without it; the rules' and dashboards' InfluxQL does not.
      logger.error({ module: 'influxd', db: config.influxDb, bucket: config.influxBucket, fix: check.dbrp.missing }, 'no DBRP mapping for the bucket: InfluxQL queries (rules, scorecard, dashboards) fail until it exists');
      process.stderr.write(`\n无 DBRP 映射 / no DBRP mapping for ${ENV_NAMES.influxDb} "${config.influxDb}" → bucket "${config.influxBucket}": ${check.dbrp.missing}\n\n`);
    }
  } else if (config.influxApi === 'v2') {
    logger.warn({ module: 'influxd', url }, 'InfluxDB unreachable; readings are kept on disk until it answers (settings checked once it does, at the next start)');
  } else {
    const target = new URL(url);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname);
    const binary = findInfluxd(config.influxdBinary);
    if (config.managedInfluxd === 'auto' && loopback && binary) {
      const port = Number(target.port || 8086);
      logger.info({ module: 'influxd', port, dir: join(dataDir, 'influxdb') }, 'no InfluxDB answering; starting a managed influxd');
      managed = await startInfluxd({ dir: join(dataDir, 'influxdb'), port, binary });
      url = managed.url;
    } else if (!binary) {
      logger.warn({ module: 'influxd', hint: INSTALL_HINT }, 'InfluxDB unreachable and not installed; readings are kept on disk until it is');
      process.stderr.write(`\n${INSTALL_HINT}\n\n`);
    } else {
      logger.warn({ module: 'influxd', url }, 'InfluxDB unreachable; readings are kept on disk until it answers');
    }
  }
  return {
    url,
    influx: createInfluxHttp(influxTarget(config, url)),
    async stop(): Promise<void> {
      await managed?.stop();
    },
  };
}
