import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import type { FieldName } from '../../contracts/influx-schema.ts';
import { on } from '../influxql.ts';
import { bars, board, legendTable, finish, statPanel, steps, timeSeries } from '../panels.ts';
import { TIME, where } from '../queries.ts';
import { DASHBOARDS } from '../../contracts/dashboards.ts';

export const INGEST_UID = DASHBOARDS.ingest.uid;

const stats = on('ingest_stats');
const filter = where(stats.match('instance', 'instance'), TIME);

const series = (fn: 'mean' | 'max' | 'sum', field: FieldName<'ingest_stats'>, fill = 'fill(none)') => ({
  query: `SELECT ${fn}(${stats.f(field)}) AS ${field} FROM ${stats.from} ${filter} GROUP BY time($__interval), ${stats.by('instance')} ${fill}`,
  alias: `$tag_instance ${field}`,
});
const latest = (field: FieldName<'ingest_stats'>) => ({ query: `SELECT last(${stats.f(field)}) AS ${field} FROM ${stats.from} ${filter}` });

/**
 * The ingest's own health, from the `ingest_stats` points each process writes every
 * interval (ingest/stats-writer.ts): throughput, refusals, InfluxDB write latency, and
 * the durable log's backlog on disk, which grows while InfluxDB is away.
 */
export function ingest(): Dashboard {
  return finish(
    board({
      uid: INGEST_UID,
      title: 'Greenspace · Ingest',
      description: 'Messages and points per second, rejects, InfluxDB write latency and errors, and the durable log backlog.',
      variables: ['instance'],
    })
      .withPanel(statPanel('Messages/s', 'reqps', latest('messages_per_s')).thresholds(steps(['blue', null])))
      .withPanel(statPanel('Points/s', 'wps', latest('points_per_s')).thresholds(steps(['blue', null])))
      .withPanel(statPanel('Write latency', 'ms', latest('write_latency_ms')).thresholds(steps(['green', null], ['orange', 250], ['red', 1000])))
      .withPanel(statPanel('Durable log backlog', 'none', latest('durable_log_backlog_points')).thresholds(steps(['green', null], ['orange', 10_000], ['red', 100_000])))
      .withPanel(timeSeries('Messages, readings and points per second', 'reqps', series('mean', 'messages_per_s'), series('mean', 'readings_per_s'), series('mean', 'points_per_s')).legend(legendTable()))
      .withPanel(timeSeries('Rejects per second', 'reqps', series('mean', 'rejects_per_s')).legend(legendTable()))
      .withPanel(timeSeries('InfluxDB write latency (mean per interval)', 'ms', series('mean', 'write_latency_ms'), { ...series('max', 'write_latency_ms'), alias: '$tag_instance worst interval' }).legend(legendTable()))
      .withPanel(bars('InfluxDB write errors', 'short', series('sum', 'write_errors', 'fill(0)')))
      .withPanel(timeSeries('Durable log backlog (points not yet in InfluxDB)', 'short', series('max', 'durable_log_backlog_points')).legend(legendTable()))
      .withPanel(timeSeries('Oldest point not yet in InfluxDB', 's', series('max', 'durable_log_oldest_age_s')).legend(legendTable()))
      .withPanel(timeSeries('Connected MQTT clients', 'short', series('max', 'connected_clients')).span(24))
      .build(),
  );
}
