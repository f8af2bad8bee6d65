import { join } from 'node:path';
import { createInfluxHttp } from '../influx/http.ts';
import { findInfluxd, INSTALL_HINT, startInfluxd, type InfluxdHandle } from '../influx/influxd-process.ts';
import type { AppContext } from './context.ts';

/**
 * InfluxDB: the configured one, or a managed loopback influxd when nothing answers and
 * the binary is installed. Absent, readings are kept on disk (the durable log) until it is.
 */
export async function startInfluxdb(ctx: AppContext, dataDir: string) {
  const { config, logger } = ctx;
  let url = config.influxUrl;
  let managed: InfluxdHandle | undefined;
  const probe = createInfluxHttp({ url, db: config.influxDb, token: config.influxToken });
  if (!(await probe.ping())) {
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
    influx: createInfluxHttp({ url, db: config.influxDb, token: config.influxToken }),
    async stop(): Promise<void> {
      await managed?.stop();
    },
  };
}
