import type { Db } from '../registry/db.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { AlertSignal } from '../contracts/alert.ts';
import type { AcceptedReading } from '../contracts/reading.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import type { IrrigationSettings } from '../rules/irrigation/settings.ts';
import type { MqttBroker } from '../broker/create-broker.ts';
import { startWateringSchedule } from './watering-schedule.ts';
import { createIrrigationEngine, loadPersisted, type IrrigationEngineDeps } from './engine.ts';
import { createIrrigationStore } from './store.ts';
import { createSqliteZoneSource } from './zone-source.ts';
import type { CommunityOwnership } from '../contracts/ownership.ts';
import type { Sql } from '../registry/sql/port.ts';
import { sqliteSqlOf } from '../registry/sql/sqlite.ts';
import type { QuerySeries } from '../influx/http.ts';
import { createLatestSoil } from './latest-soil.ts';

export interface StartIrrigationDeps {
  /** The registry (zones, rain gauges): the data directory's SQLite. */
  db: Db;
  /**
   * Where the zones' state, runs, decisions, signals and overrides live (app/shared-state.ts):
   * PostgreSQL when GS_POSTGRES_URL is set, so a node taking a community over reads what the
   * previous owner wrote; default, the data directory's SQLite.
   */
  sql?: Sql;
  broker: Pick<MqttBroker, 'publish' | 'subscribe'>;
  /** The durable log's append (points for InfluxDB). */
  append: (lines: string[]) => Promise<void>;
  /** The accepted readings (app/: the ingest's listeners); the subscription ends with stop. */
  readings: { add(name: string, listener: (reading: AcceptedReading, device: DeviceInfo) => void): () => void };
  clock: Clock;
  logger: Logger;
  /** Where stale valve refusals are counted (app.ts: the app's metrics). */
  metrics?: IrrigationEngineDeps['metrics'];
  settings?: Partial<IrrigationSettings>;
  /** The alert service's port (app.ts passes health.monitor.signal: the alert service, in the order signals are given); absent (tests), signals are only kept in the zone's history and logged. */
  signal?: (alert: AlertSignal) => void;
  /**
   * Where the evaluation tick and the per-zone wake timers come from. Default: node-cron
   * every wall-clock minute and real timers. A run on a simulated clock (the end-to-end
   * test) drives both from that clock, so ack timeouts and run ends happen in its time.
   */
  time?: IrrigationTime;
  /** Clustered: which communities' zones this node runs, and when that changes (app/cluster.ts). Default: all. */
  ownership?: Pick<CommunityOwnership, 'owns' | 'onChange' | 'token'>;
  /** InfluxDB's queries: a zone taken over (clustered) reads its sensors' latest readings there (irrigation/latest-soil.ts). */
  influx?: { query(q: string): Promise<QuerySeries[][]> };
}

export interface IrrigationTime {
  /** Call tick on every (simulated) minute until stopped. */
  schedule: (tick: () => void) => { stop(): Promise<void> | void };
  timers: NonNullable<IrrigationEngineDeps['timers']>;
}

/**
 * Wire the irrigation engine into a running app: readings in, acks in (in-process
 * subscription), commands and points out, the node-cron tick, and the runs a restart cut.
 */
export async function startIrrigation(deps: StartIrrigationDeps) {
  const log = deps.logger.child({ module: 'irrigation' });
  const zones = createSqliteZoneSource(deps.db, log);
  const { ownership } = deps;
  const sql = deps.sql ?? sqliteSqlOf(deps.db);
  const store = createIrrigationStore(sql, log);
  const engine = createIrrigationEngine({
    zones,
    store,
    persisted: await loadPersisted(store),
    sharedStore: sql.dialect === 'postgres',
    publish: (topic, payload) => deps.broker.publish({ topic, payload: Buffer.from(payload), qos: 1, retain: false }),
    // Deferred to a macrotask. It worked around an earlier durable log that could leave an
    // append made in the microtask right after another append resolved (as a reading
    // listener's is) pending until the next append; the log now clears its commit-loop flag
    // in the same step that finds nothing to write, so the deferral only costs a turn.
    appendLines: (lines) => new Promise<void>((resolveTick) => setImmediate(resolveTick)).then(() => deps.append(lines)),
    signal: deps.signal ?? ((alert) => log.warn({ alert }, 'alert signal')),
    clock: deps.clock,
    logger: log,
    metrics: deps.metrics,
    settings: deps.settings,
    timers: deps.time?.timers,
    ...(ownership ? { owns: (communityId: string) => ownership.owns(communityId) } : {}),
    // Fenced by the lease only where the store is the cluster's: each node's own SQLite has no other writer to fence off.
    ...(ownership && sql.dialect === 'postgres' ? { token: (communityId: string) => ownership.token(communityId) } : {}),
    ...(ownership && deps.influx ? { latestSoil: createLatestSoil({ influx: deps.influx, db: deps.db, now: () => deps.clock.now() }) } : {}),
  });
  // A community gained: its zones' state and overrides from the store, a run open there closed; lost: its runs closed.
  const stopOwnership = ownership?.onChange('irrigation', ({ gained, lost }) => {
    const zonesOf = (communities: string[]) => communities.flatMap((c) => zones.listByCommunity(c).map((z) => z.id));
    engine.release(zonesOf(lost));
    engine.adopt(zonesOf(gained)).catch((error: unknown) => log.error({ err: error, communities: gained }, 'zones taken over: adoption failed'));
  });
  const stopReadings = deps.readings.add('irrigation', (reading, device) => engine.onReading(reading, device));
  await deps.broker.subscribe('gs/+/ack', (topic, payload) => engine.onAck(topic, payload));
  engine.restore();
  const schedule = deps.time
    ? deps.time.schedule(() => engine.tick())
    : startWateringSchedule({ tick: () => engine.tick(), logger: log }, '* * * * *', engine.timezone);
  // Rain gauges are placed per zone or per community (as onReading routes their readings).
  const gaugeServes = deps.db.prepare(`
    SELECT 1 FROM devices d JOIN zones z ON z.id = ?
     WHERE d.kind = 'rain' AND d.retired_at IS NULL AND d.disabled = 0 AND (d.zone_id = z.id OR (d.zone_id IS NULL AND d.community_id = z.community_id)) LIMIT 1`);
  /** The forecast input `POST /zones/:id/forecast` fills, for a feed (weather/feed.ts), and what the zone's gauges measured. */
  const forecasts = {
    current: (zoneId: string) => engine.stateOf(zoneId)?.forecast,
    post: (zoneId: string, f: { rainMm: number; minAirTempC?: number; et0MmDay?: number; validUntil: number; by: string }) => { engine.dispatch(zoneId, { type: 'forecast', ...f }); },
    gaugeRainLast24hMm: (zoneId: string, now: number): number | undefined => {
      if (gaugeServes.get(zoneId) === undefined) return undefined;
      const rain = engine.stateOf(zoneId)?.rain ?? [];
      return Math.round(rain.filter((r) => now - r.at <= 86_400_000 && r.at <= now).reduce((sum, r) => sum + r.mm, 0) * 100) / 100;
    },
  };
  return {
    engine,
    forecasts,
    async stop(): Promise<void> {
      stopOwnership?.();
      stopReadings();
      await schedule.stop();
      await engine.stop();
    },
  };
}
