import { startRollups } from '../rollups/start.ts';
import type { InfluxHttp } from '../influx/http.ts';
import type { Db } from '../registry/db.ts';
import type { DurableLog } from '../durable-log/durable-log.ts';
import type { AppContext } from './context.ts';

/**
 * Hourly and daily rollups and the raw retention (GS_RAW_RETENTION_DAYS). Rollup points go
 * through the durable log like every other point; its backlog holds the rollups back, so a
 * window is rolled only once its raw points are in InfluxDB.
 */
export function startRollupsFeature(ctx: AppContext, deps: { db: Db; influx: InfluxHttp; durableLog: Pick<DurableLog, 'append' | 'backlog'> }) {
  const rollups = startRollups({
    db: deps.db,
    influx: deps.influx,
    append: (lines) => deps.durableLog.append(lines),
    pendingSinceMs: () => {
      const backlog = deps.durableLog.backlog();
      return backlog.lines > 0 ? ctx.clock.now() - backlog.oldestAgeMs : undefined;
    },
    clock: ctx.clock,
    logger: ctx.logger,
    registry: ctx.metrics.registry,
    options: { retentionDays: ctx.config.rawRetentionDays, ...ctx.options.rollups },
  });
  return { rollups, stop: () => rollups.stop() };
}
