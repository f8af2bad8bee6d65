import type { Db } from '../registry/db.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import type { AlertKind } from '../contracts/alert.ts';
import type { QuerySeries } from '../influx/http.ts';
import { createAlertService } from './alert-service.ts';
import { createAlertPointBuilder } from './alert-points.ts';
import { createWorkOrderService } from './work-orders/service.ts';
import { createFacilityBaselines } from './facility-baselines.ts';
import { createHealthMonitor, type GatewayPort } from './health-monitor.ts';
import { createGatewayLookup } from './gateway-lookup.ts';
import { buildScorecard } from './scorecard/collect.ts';
import { scheduleHealthSweep } from '../schedules/health-sweep.ts';

export interface HealthDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  devices: { list(): DeviceInfo[]; refresh(id: string): unknown };
  /** Durable append of line-protocol points (the ingest's log, shipped to InfluxDB). */
  append(lines: string[]): Promise<void>;
  influx: { query(q: string): Promise<QuerySeries[][]> };
  /** Defaults to `devices.gateway_id` in the registry (once the inventory migration adds it). */
  gateways?: GatewayPort;
  /** Cron expression of the offline sweep; false: no schedule (tests call sweep()). */
  sweepCron?: string | false;
  /** Per-kind reopen windows (alerts/reopen.ts); kinds left out keep their defaults. */
  reopenWithinMs?: Partial<Record<AlertKind, number>>;
}

export type Health = ReturnType<typeof createHealth>;

/**
 * Facility and device health, alerts and the ledger, assembled: what app.ts wires in.
 * `alerts.onTransition` is the port the notifier subscribes to.
 */
export function createHealth(deps: HealthDeps) {
  const log = deps.logger.child({ module: 'alerts' });
  const alerts = createAlertService({ db: deps.db, clock: deps.clock, logger: deps.logger, reopenWithinMs: deps.reopenWithinMs });
  const workOrders = createWorkOrderService({ db: deps.db, clock: deps.clock, alerts });
  const baselines = createFacilityBaselines(deps.db, deps.devices);
  const toPoint = createAlertPointBuilder();
  alerts.onTransition((t) => {
    deps.append([toPoint(t)]).catch((error: unknown) => log.error({ err: error, alert: t.alert.id, to: t.to }, 'alert point not stored'));
  });
  const monitor = createHealthMonitor({
    clock: deps.clock, logger: deps.logger, alerts, devices: deps.devices, gateways: deps.gateways ?? createGatewayLookup(deps.db, deps.clock),
    saveBaseline: (facilityId, baseline) => baselines.save(facilityId, baseline),
    writeStatus: (lines) => {
      deps.append(lines).catch((error: unknown) => log.error({ err: error }, 'device status points not stored'));
    },
  });
  monitor.seed(alerts.allActive());
  const task = deps.sweepCron === false ? undefined : scheduleHealthSweep({ sweep: () => monitor.sweep(), logger: deps.logger }, deps.sweepCron);
  return {
    alerts,
    workOrders,
    baselines,
    monitor,
    scorecard: (month: string) => buildScorecard({ db: deps.db, influx: deps.influx, devices: deps.devices, clock: deps.clock }, month),
    async stop(): Promise<void> {
      await task?.destroy();
    },
  };
}
