import { createHealth } from '../health/start.ts';
import { reopenWindowsMs } from '../alerts/reopen.ts';
import type { InfluxHttp } from '../influx/http.ts';
import type { Db } from '../registry/db.ts';
import type { Sql } from '../registry/sql/port.ts';
import type { createDeviceRegistry } from '../registry/devices.ts';
import type { createCityRegistry } from '../registry/city.ts';
import type { createInventoryService } from '../inventory/service.ts';
import type { createNotificationService } from '../notify/service.ts';
import type { AppContext } from './context.ts';
import { ownsEverything, type CommunityOwnership } from '../contracts/ownership.ts';

export interface HealthFeatureDeps {
  db: Db;
  /** Alerts' and work orders' store (app/shared-state.ts): the SQLite `db`, or PostgreSQL in clustered mode. */
  sql: Sql;
  devices: ReturnType<typeof createDeviceRegistry>;
  city: ReturnType<typeof createCityRegistry>;
  inventory: Pick<ReturnType<typeof createInventoryService>, 'onImported'>;
  influx: InfluxHttp;
  append: (lines: string[]) => Promise<void>;
  notifications: Pick<ReturnType<typeof createNotificationService>, 'onTransition'>;
  /** Clustered: the communities this node sweeps; one process: all (no gate at all). */
  ownership?: CommunityOwnership | undefined;
}

/**
 * Facility and device health, alerts and the fault ledger: readings in (its own listener),
 * every alert transition out to the notifier, thresholds re-read after an import.
 */
export async function startHealthFeature(ctx: AppContext, deps: HealthFeatureDeps) {
  const health = await createHealth({
    db: deps.db, sql: deps.sql, clock: ctx.clock, logger: ctx.logger, devices: deps.devices, append: deps.append, influx: deps.influx,
    reopenWithinMs: reopenWindowsMs(ctx.notifyConfig.reopenWithinS),
    ...(deps.ownership && deps.ownership !== ownsEverything ? { ownership: deps.ownership } : {}),
    facilities: deps.city, facilityConfig: ctx.rulesConfig.facilityHealth, deviceConfig: ctx.rulesConfig.deviceHealth, slaMs: ctx.rulesConfig.workOrderSlaMs,
    irrigation: ctx.options.irrigation,
    signalMetrics: { pending: (n) => ctx.metrics.alertSignalsPending.set(n), dropped: (reason) => ctx.metrics.alertSignalsDropped.inc({ reason }) },
  });
  const subscriptions = [
    ctx.readings.add('health', (reading, device) => health.monitor.onReading(reading, device)),
    // A facility's own thresholds take effect from the reading after the import that set them.
    deps.inventory.onImported(() => health.facilityThresholds.refresh()),
    health.alerts.onTransition((transition) => deps.notifications.onTransition(transition)),
  ];
  return {
    health,
    async stop(): Promise<void> {
      for (const unsubscribe of subscriptions) unsubscribe();
      await health.stop();
    },
  };
}
