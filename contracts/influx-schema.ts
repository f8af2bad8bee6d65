/**
 * InfluxDB measurement, tag and field names: shared by the writer and the dashboards,
 * so a dashboard can never query a name the writer does not produce.
 * Every field is written as a float (no `i` suffix), so no field type conflict can arise
 * whatever a device sends.
 */
export const MEASUREMENTS = {
  soil: {
    name: 'soil',
    tags: ['district', 'community', 'zone', 'device', 'plant'],
    fields: ['moisture', 'temperature', 'ec', 'battery', 'rssi', 'snr'],
  },
  tilt: {
    name: 'tilt',
    tags: ['district', 'community', 'facility', 'facility_type', 'device'],
    fields: ['pitch', 'roll', 'tilt', 'delta', 'shock', 'battery', 'rssi', 'snr'],
  },
  valve: {
    name: 'valve',
    tags: ['district', 'community', 'zone', 'device'],
    fields: ['state', 'flow', 'volume', 'battery', 'rssi', 'snr'],
  },
  rain: {
    name: 'rain',
    tags: ['district', 'community', 'device'],
    fields: ['rainfall', 'battery', 'rssi', 'snr'],
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
      'rejected_rate_limited', 'rejected_duplicate', 'rejected_influx_refused', 'rejected_durable_log_overflow',
    ],
  },
} as const;

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
