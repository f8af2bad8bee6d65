import type { Db } from '../registry/db.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import type { AlertKind, Severity } from '../contracts/alert.ts';
import { DEFAULT_FACILITY_CONFIG, type FacilityRuleConfig } from '../rules/facility-health/thresholds.ts';
import type { DeviceHealthConfig } from '../rules/device-health/config.ts';
import type { QuerySeries } from '../influx/http.ts';
import { createAlertService } from '../alerts/alert-service.ts';
import type { Sql } from '../registry/sql/port.ts';
import { sqliteSqlOf } from '../registry/sql/sqlite.ts';
import { createAlertPointBuilder } from '../alerts/alert-points.ts';
import { createWorkOrderService } from '../alerts/work-orders/service.ts';
import { createFacilityBaselines } from './facility-baselines.ts';
import { createHealthMonitor, gatewaysFromRegistry, type GatewayPort } from './monitor.ts';
import type { SignalQueueDeps } from './signal-queue.ts';
import { followOwnership } from './ownership-seed.ts';
import { createFacilityThresholdCache, type FacilitySource } from './facility-thresholds.ts';
import { createCityRegistry } from '../registry/city.ts';
import { buildScorecard } from '../assessment/collect.ts';
import type { BandSettings } from '../assessment/bands.ts';
import type { MoistureBand } from '../contracts/zone.ts';
import { scheduleHealthSweep } from './sweep-schedule.ts';
import type { CommunityOwnership } from '../contracts/ownership.ts';
import { createSqliteSignalSpill } from './signal-spill.ts';

export interface HealthDeps {
  db: Db;
  /** Where alerts and work orders live: PostgreSQL in clustered mode (GS_POSTGRES_URL); the SQLite `db` when absent. */
  sql?: Sql;
  clock: Clock;
  logger: Logger;
  devices: { list(): DeviceInfo[]; get(id: string): DeviceInfo | undefined; refresh(id: string): unknown };
  /** Durable append of line-protocol points (the ingest's log, shipped to InfluxDB). */
  append(lines: string[]): Promise<void>;
  influx: { query(q: string): Promise<QuerySeries[][]> };
  /** Defaults to the device registry's `gateway_id` (gatewaysFromRegistry). */
  gateways?: GatewayPort;
  /** Cron expression of the offline sweep; false: no schedule (tests call sweep()). */
  sweepCron?: string | false;
  /** Per-kind reopen windows (alerts/reopen.ts); kinds left out keep their defaults. */
  reopenWithinMs?: Partial<Record<AlertKind, number>>;
  /** The deployment's rule settings (GS_RULES_CONFIG, health/rules-config.ts); code defaults when absent. */
  facilityConfig?: FacilityRuleConfig;
  deviceConfig?: DeviceHealthConfig;
  slaMs?: Record<Severity, number>;
  /** Facilities' own thresholds (inventory overrides); defaults to the registry's facilities table. */
  facilities?: FacilitySource;
  /** The irrigation settings the engine runs with: the scorecard measures each zone against the band it is watered to. */
  irrigation?: BandSettings;
  /** Clustered: the communities whose devices this node sweeps (health/monitor.ts) and whose alerts it seeds on gain (ownership-seed.ts); absent: all. */
  ownership?: Pick<CommunityOwnership, 'owns' | 'gainedAt' | 'onChange'>;
  /** The metrics registry's signal-queue gauges (gs_alert_signals_pending, gs_alert_signals_dropped_total). */
  signalMetrics?: SignalQueueDeps['metrics'];
}

export type Health = Awaited<ReturnType<typeof createHealth>>;

/**
 * Facility and device health, alerts and the ledger, assembled: what app.ts wires in.
 * `alerts.onTransition` is the port the notifier subscribes to.
 */
export async function createHealth(deps: HealthDeps) {
  const log = deps.logger.child({ module: 'alerts' });
  const alerts = createAlertService({ sql: deps.sql ?? sqliteSqlOf(deps.db), clock: deps.clock, logger: deps.logger, reopenWithinMs: deps.reopenWithinMs, sla: deps.slaMs });
  const workOrders = createWorkOrderService({ clock: deps.clock, alerts });
  const baselines = createFacilityBaselines(deps.db, deps.devices);
  const toPoint = createAlertPointBuilder();
  alerts.onTransition((t) => {
    if (t.to === 'restated') return; // the same state in other words: no point in the alert series
    deps.append([toPoint(t)]).catch((error: unknown) => log.error({ err: error, alert: t.alert.id, to: t.to }, 'alert point not stored'));
  });
  const facilityConfig = deps.facilityConfig ?? DEFAULT_FACILITY_CONFIG;
  const facilityThresholds = createFacilityThresholdCache({ source: deps.facilities ?? createCityRegistry(deps.db), config: facilityConfig, logger: deps.logger });
  const monitor = createHealthMonitor({
    clock: deps.clock, logger: deps.logger, alerts, devices: deps.devices, gateways: deps.gateways ?? gatewaysFromRegistry(deps.devices),
    facilityConfig, facilityThresholds, deviceConfig: deps.deviceConfig,
    saveBaseline: (facilityId, baseline) => baselines.save(facilityId, baseline),
    ...(deps.ownership ? { ownership: deps.ownership } : {}),
    signalQueue: {
      ...(deps.signalMetrics ? { metrics: deps.signalMetrics } : {}),
      // Alerts in PostgreSQL: signals held through its outage are kept on this node's disk too, so a restart does not lose them.
      ...(deps.sql?.dialect === 'postgres' ? { spill: createSqliteSignalSpill(deps.db, deps.logger) } : {}),
    },
    writeStatus: (lines) => {
      deps.append(lines).catch((error: unknown) => log.error({ err: error }, 'device status points not stored'));
    },
  });
  monitor.seed(await alerts.allActive());
  const unfollow = deps.ownership ? followOwnership({ ownership: deps.ownership, monitor, activeIn: (c) => alerts.activeIn(c), logger: deps.logger }) : undefined;
  const task = deps.sweepCron === false ? undefined : scheduleHealthSweep({ sweep: () => monitor.sweep(), logger: deps.logger }, deps.sweepCron);
  return {
    alerts,
    workOrders,
    baselines,
    monitor,
    /** Call after the facilities' thresholds changed (an inventory import). */
    facilityThresholds,
    /** `zoneBand`: the irrigation engine's band of a zone (irrigation/engine.ts bandOf), which starts after health; the API passes it. */
    scorecard: (month: string, zoneBand?: (zoneId: string) => MoistureBand | undefined) =>
      buildScorecard({ db: deps.db, sql: alerts.ledger.sql, influx: deps.influx, devices: deps.devices, clock: deps.clock, irrigation: deps.irrigation, zoneBand }, month),
    async stop(): Promise<void> {
      unfollow?.();
      await task?.destroy();
      await monitor.stop();
    },
  };
}
