import type { Registry } from 'prom-client';
import { MEASUREMENTS, type FieldName } from '../contracts/influx-schema.ts';
import { REJECT_REASONS } from '../contracts/rejects.ts';
import { toLine } from '../influx/line-protocol.ts';
import type { Logger } from '../lib/logger.ts';

type StatsField = FieldName<'ingest_stats'>;

/** The Prometheus series the writer samples (names from lib/metrics.ts). */
const PROM = {
  messages: 'gs_mqtt_messages_received_total',
  readings: 'gs_readings_accepted_total',
  rejects: 'gs_readings_rejected_total',
  points: 'gs_influx_points_written_total',
  writeErrors: 'gs_influx_write_errors_total',
  writeDuration: 'gs_influx_write_duration_seconds',
  backlogPoints: 'gs_durable_log_backlog_points',
  backlogBytes: 'gs_durable_log_backlog_bytes',
  oldestAge: 'gs_durable_log_oldest_age_seconds',
  clients: 'gs_mqtt_connected_clients',
} as const;

interface Snapshot {
  at: number;
  messages: number;
  readings: number;
  rejects: number;
  points: number;
  writeErrors: number;
  writeSeconds: number;
  writes: number;
  rejectsByReason: Map<string, number>;
}

export interface IngestStatsDeps {
  registry: Registry;
  /** Where the point goes: the durable log, so stats wait out an InfluxDB outage on disk as readings do. */
  append: (lines: string[]) => Promise<void>;
  now: () => number;
  /** Which process wrote the point (host name by default in app.ts). */
  instance: string;
  logger?: Logger;
}

/**
 * Periodic ingest statistics as one `ingest_stats` point: the Prometheus counters of this
 * process turned into per-interval rates and counts, because operators watch Grafana on
 * InfluxDB and may have no Prometheus at all. The first sample measures from creation
 * (the counters start at zero with the process).
 */
export function createIngestStatsWriter(deps: IngestStatsDeps) {
  let previous: Snapshot = { at: deps.now(), messages: 0, readings: 0, rejects: 0, points: 0, writeErrors: 0, writeSeconds: 0, writes: 0, rejectsByReason: new Map() };

  async function read(): Promise<{ snapshot: Snapshot; gauges: { backlogPoints: number; backlogBytes: number; oldestAge: number; clients: number } }> {
    const values = async (name: string) => (await deps.registry.getSingleMetric(name)?.get())?.values ?? [];
    const sum = async (name: string) => (await values(name)).reduce((acc, v) => acc + v.value, 0);
    const durations = await values(PROM.writeDuration);
    const rejectsByReason = new Map<string, number>();
    for (const v of await values(PROM.rejects)) {
      const reason = String(v.labels.reason ?? '');
      rejectsByReason.set(reason, (rejectsByReason.get(reason) ?? 0) + v.value);
    }
    return {
      snapshot: {
        at: deps.now(),
        messages: await sum(PROM.messages),
        readings: await sum(PROM.readings),
        rejects: [...rejectsByReason.values()].reduce((a, b) => a + b, 0),
        points: await sum(PROM.points),
        writeErrors: await sum(PROM.writeErrors),
        writeSeconds: durations.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_sum')).reduce((a, v) => a + v.value, 0),
        writes: durations.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_count')).reduce((a, v) => a + v.value, 0),
        rejectsByReason,
      },
      gauges: { backlogPoints: await sum(PROM.backlogPoints), backlogBytes: await sum(PROM.backlogBytes), oldestAge: await sum(PROM.oldestAge), clients: await sum(PROM.clients) },
    };
  }

  /** Take one sample and return its line (undefined when no time has passed). */
  async function sample(): Promise<string | undefined> {
    const { snapshot: now, gauges } = await read();
    const seconds = (now.at - previous.at) / 1000;
    if (seconds <= 0) return undefined;
    const rate = (a: number, b: number) => Math.max(0, a - b) / seconds;
    const writes = now.writes - previous.writes;
    const fields: Partial<Record<StatsField, number>> = {
      messages_per_s: rate(now.messages, previous.messages),
      readings_per_s: rate(now.readings, previous.readings),
      rejects_per_s: rate(now.rejects, previous.rejects),
      points_per_s: rate(now.points, previous.points),
      write_errors: Math.max(0, now.writeErrors - previous.writeErrors),
      // Mean latency of the writes in this interval; left out when there were none.
      write_latency_ms: writes > 0 ? ((now.writeSeconds - previous.writeSeconds) / writes) * 1000 : undefined,
      durable_log_backlog_points: gauges.backlogPoints,
      durable_log_backlog_bytes: gauges.backlogBytes,
      durable_log_oldest_age_s: gauges.oldestAge,
      connected_clients: gauges.clients,
    };
    for (const reason of REJECT_REASONS) {
      fields[`rejected_${reason}`] = Math.max(0, (now.rejectsByReason.get(reason) ?? 0) - (previous.rejectsByReason.get(reason) ?? 0));
    }
    previous = now;
    return toLine(MEASUREMENTS.ingest_stats.name, { instance: deps.instance }, fields, now.at);
  }

  /** Sample and append; a failure is logged and the next tick tries again. */
  async function tick(): Promise<void> {
    try {
      const line = await sample();
      if (line) await deps.append([line]);
    } catch (error) {
      deps.logger?.error({ err: error }, 'ingest stats sample failed');
    }
  }

  return {
    sample,
    tick,
    /** Run `tick` on the injected scheduler; returns the stop function. */
    start(schedule: (fn: () => void, ms: number) => () => void, intervalMs = 10_000): () => void {
      return schedule(() => void tick(), intervalMs);
    },
  };
}
