/**
 * InfluxDB measurement, tag and field names: shared by the writer and the dashboards,
 * so a dashboard can never query a name the writer does not produce.
 * Every field is written as a float (no `i` suffix), so no field type conflict can arise
 * whatever a device sends.
 */
const RAW_MEASUREMENTS = {
  soil: {
    name: 'soil',
    tags: ['district', 'community', 'zone', 'device', 'plant'],
    fields: ['moisture', 'temperature', 'ec', 'battery', 'battery_v', 'rssi', 'snr'],
  },
  tilt: {
    name: 'tilt',
    tags: ['district', 'community', 'facility', 'facility_type', 'device'],
    fields: ['pitch', 'roll', 'tilt', 'delta', 'shock', 'battery', 'battery_v', 'rssi', 'snr'],
  },
  valve: {
    name: 'valve',
    tags: ['district', 'community', 'zone', 'device'],
    fields: ['state', 'flow', 'volume', 'battery', 'battery_v', 'rssi', 'snr'],
  },
  rain: {
    name: 'rain',
    tags: ['district', 'community', 'device'],
    fields: ['rainfall', 'battery', 'battery_v', 'rssi', 'snr'],
  },
  watering: {
    name: 'watering',
    tags: ['district', 'community', 'zone', 'mode', 'reason', 'action'],
    fields: ['duration_s', 'volume_l', 'moisture'],
  },
  alert: {
    name: 'alert',
    tags: ['district', 'community', 'kind', 'severity', 'subject'],
    fields: ['state', 'message'],
  },
  device_status: {
    name: 'device_status',
    tags: ['district', 'community', 'device', 'kind'],
    fields: ['online', 'battery', 'last_seen_s'],
  },
  /**
   * The ingest's own counters, sampled every interval by ingest/stats-writer.ts so the
   * Ingest and Device fleet dashboards need only InfluxDB (the same numbers are in
   * /metrics). Rates are per second over the interval; `rejected_*` are counts in the
   * interval, one field per REJECT_REASONS entry (fields, not a tag, so every point has
   * the same tag set, as InfluxDB 3 wants).
   */
  ingest_stats: {
    name: 'ingest_stats',
    tags: ['instance'],
    fields: [
      'messages_per_s', 'readings_per_s', 'rejects_per_s', 'points_per_s',
      'write_errors', 'write_latency_ms', 'durable_log_backlog_points', 'durable_log_backlog_bytes',
      'durable_log_oldest_age_s', 'connected_clients',
      'rejected_malformed_json', 'rejected_schema', 'rejected_out_of_range', 'rejected_bad_timestamp',
      'rejected_unknown_device', 'rejected_wrong_application', 'rejected_topic_not_allowed', 'rejected_too_large',
      'rejected_rate_limited', 'rejected_duplicate', 'rejected_influx_refused', 'rejected_durable_log_overflow', 'rejected_codec_error',
    ],
  },
} as const;

/** The aggregates a rollup keeps of each field, per window and series: field `{field}_{aggregate}`. */
export const ROLLUP_AGGREGATES = ['mean', 'min', 'max', 'count'] as const;
export type RollupAggregate = (typeof ROLLUP_AGGREGATES)[number];
/** Rollup windows: `1h` and `1d`, aligned to UTC (InfluxQL's GROUP BY time aligns to the epoch). */
export const ROLLUP_RESOLUTIONS = { '1h': 3_600_000, '1d': 86_400_000 } as const;
export type RollupResolution = keyof typeof ROLLUP_RESOLUTIONS;

/**
 * A rollup measurement: `{source}_{resolution}`, the source's tags, `{field}_{aggregate}`
 * fields, one point per series and window at the window's start. Written by rollups/
 * from the raw points, so the long-range dashboards read a point per hour or day.
 */
function rollupOf<S extends keyof typeof RAW_MEASUREMENTS, F extends ReadonlyArray<(typeof RAW_MEASUREMENTS)[S]['fields'][number]>, R extends RollupResolution>(source: S, sourceFields: F, resolution: R) {
  return {
    name: `${source}_${resolution}` as `${S}_${R}`,
    tags: RAW_MEASUREMENTS[source].tags,
    fields: sourceFields.flatMap((f) => ROLLUP_AGGREGATES.map((a) => `${f}_${a}`)) as ReadonlyArray<`${F[number]}_${RollupAggregate}`>,
    rollup: { source, sourceFields, resolution },
  };
}

/** Which raw fields are rolled up: those a chart over months reads (not rssi/snr, nor the valves' and rain's events). */
const SOIL_ROLLED = ['moisture', 'temperature', 'ec', 'battery'] as const;
const TILT_ROLLED = ['tilt', 'battery'] as const;
const ROLLUP_MEASUREMENTS = {
  soil_1h: rollupOf('soil', SOIL_ROLLED, '1h'),
  soil_1d: rollupOf('soil', SOIL_ROLLED, '1d'),
  tilt_1h: rollupOf('tilt', TILT_ROLLED, '1h'),
  tilt_1d: rollupOf('tilt', TILT_ROLLED, '1d'),
};
export type RollupMeasurement = (typeof ROLLUP_MEASUREMENTS)[keyof typeof ROLLUP_MEASUREMENTS];
export const ROLLUPS: readonly RollupMeasurement[] = Object.values(ROLLUP_MEASUREMENTS);

/**
 * The raw measurements GS_RAW_RETENTION_DAYS applies to: the readings and the app's own
 * frequent samples. Not `watering` and `alert`: events, few, read as a history.
 */
export const RETAINED_RAW: readonly string[] = ['soil', 'tilt', 'valve', 'rain', 'device_status', 'ingest_stats'];

export const MEASUREMENTS = { ...RAW_MEASUREMENTS, ...ROLLUP_MEASUREMENTS };

export type MeasurementName = keyof typeof MEASUREMENTS;
export type TagName<M extends MeasurementName> = (typeof MEASUREMENTS)[M]['tags'][number];
export type FieldName<M extends MeasurementName> = (typeof MEASUREMENTS)[M]['fields'][number];

/** Which measurement a device kind's readings go to (gateways report status only). */
export const MEASUREMENT_BY_KIND = {
  soil: 'soil',
  tilt: 'tilt',
  valve: 'valve',
  rain: 'rain',
  gateway: undefined,
} as const;
