import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Every metric of one app instance, on its own registry (no global default registry:
 * tests run several apps in one process).
 */
export function createMetrics(options: { defaults?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaults !== false) collectDefaultMetrics({ register: registry, prefix: 'gs_process_' });
  const registers = [registry];

  const metrics = {
    registry,
    messagesReceived: new Counter({ name: 'gs_mqtt_messages_received_total', help: 'Reading messages received, by wire format', labelNames: ['format'] as const, registers }),
    readingsAccepted: new Counter({ name: 'gs_readings_accepted_total', help: 'Readings accepted into the durable log, by device kind', labelNames: ['kind'] as const, registers }),
    clusterRelay: new Counter({ name: 'gs_cluster_relayed_readings_total', help: 'Readings relayed to their community\'s owner over the bus (clustered mode), by outcome: sent, received, refused, unknown_device, failed', labelNames: ['outcome'] as const, registers }),
    clusterZoneForward: new Counter({ name: 'gs_cluster_zone_actions_total', help: 'Operator zone actions forwarded to the community\'s owner over the bus (clustered mode), by outcome: sent, resent, answered, timeout, performed (by the owner), repeated (a correlation id answered again, not run twice; from the shared record on a new owner), pending (claimed by another node that has not answered: not run again), refused, failed', labelNames: ['outcome'] as const, registers }),
    clusterOwned: new Gauge({ name: 'gs_cluster_owned_communities', help: 'Communities (and the unplaced devices\' key) whose rules this node runs now (clustered mode; their leases)', registers }),
    clusterBusDropped: new Counter({ name: 'gs_cluster_bus_dropped_total', help: 'Messages to other nodes dropped because Redis was away and the bounded queue was full (clustered mode), by kind (reading or other)', labelNames: ['kind'] as const, registers }),
    clusterDedupUnavailable: new Counter({ name: 'gs_cluster_dedup_unavailable_total', help: 'Messages stored without the shared duplicate filter because Redis did not answer (clustered mode)', registers }),
    clusterAckFallback: new Counter({ name: 'gs_cluster_ack_replica_fallback_total', help: 'Points acknowledged on this node\'s disk alone, without their copy in Redis (clustered mode), by reason: away (not connected), timeout (not answered in 1 s), error, full (64 MiB of this node\'s copies not yet confirmed by InfluxDB)', labelNames: ['reason'] as const, registers }),
    clusterAckRecovered: new Counter({ name: 'gs_cluster_ack_recovered_points_total', help: 'Points a dead node acknowledged but had not shipped, written by this node from their copies in Redis (clustered mode)', registers }),
    readingsRejected: new Counter({ name: 'gs_readings_rejected_total', help: 'Readings or messages refused, by reason', labelNames: ['reason'] as const, registers }),
    readingFieldsRefused: new Counter({
      name: 'gs_reading_fields_refused_total',
      help: 'Fields dropped from readings whose other fields were stored, by device profile (native, generic or a model), our field, and reason (out_of_range, unparsable, unit)',
      labelNames: ['profile', 'field', 'reason'] as const,
      registers,
    }),
    codecErrors: new Counter({ name: 'gs_codec_errors_total', help: 'Uplinks a network server\'s codec failed to decode (ChirpStack event/log UPLINK_CODEC), by wire format', labelNames: ['format'] as const, registers }),
    pointsWritten: new Counter({ name: 'gs_influx_points_written_total', help: 'Points stored in InfluxDB', registers }),
    writeErrors: new Counter({ name: 'gs_influx_write_errors_total', help: 'Failed InfluxDB write attempts, by kind', labelNames: ['kind'] as const, registers }),
    writeDuration: new Histogram({
      name: 'gs_influx_write_duration_seconds',
      help: 'InfluxDB write request latency',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    influxUp: new Gauge({ name: 'gs_influx_up', help: '1 when the last InfluxDB request succeeded', registers }),
    connectedClients: new Gauge({ name: 'gs_mqtt_connected_clients', help: 'MQTT clients connected to the embedded broker', registers }),
    authFailures: new Counter({ name: 'gs_mqtt_auth_failures_total', help: 'Refused MQTT connections and operations, by reason', labelNames: ['reason'] as const, registers }),
    durableLogBacklogPoints: new Gauge({ name: 'gs_durable_log_backlog_points', help: 'Points on local disk not yet stored in InfluxDB', registers }),
    durableLogBacklogBytes: new Gauge({ name: 'gs_durable_log_backlog_bytes', help: 'Bytes on local disk not yet stored in InfluxDB', registers }),
    durableLogOldestAge: new Gauge({ name: 'gs_durable_log_oldest_age_seconds', help: 'Age of the oldest point not yet stored in InfluxDB', registers }),
    intakeHeld: new Gauge({ name: 'gs_ingest_intake_held', help: '1 while the broker stops reading its sockets because InfluxDB is behind (backpressure)', registers }),
    intakeHolds: new Counter({ name: 'gs_ingest_intake_holds_total', help: 'Times the broker stopped reading its sockets because InfluxDB was behind', registers }),
    durableLogDropped: new Counter({ name: 'gs_durable_log_dropped_points_total', help: 'Points dropped because the durable log exceeded its disk budget', registers }),
    apiAuthFailures: new Counter({ name: 'gs_api_auth_failures_total', help: 'Refused API requests, by reason (missing_token, invalid_token, forbidden, rate_limited)', labelNames: ['reason'] as const, registers }),
    credentialChecks: new Counter({ name: 'gs_mqtt_credential_checks_total', help: 'MQTT credential checks, by how they were answered (cache or scrypt)', labelNames: ['via'] as const, registers }),
    credentialChecksRunning: new Gauge({ name: 'gs_mqtt_credential_checks_running', help: 'scrypt checks of MQTT passwords running now (at most GS_MQTT_AUTH_CONCURRENCY)', registers }),
    credentialChecksWaiting: new Gauge({ name: 'gs_mqtt_credential_checks_waiting', help: 'CONNECTs waiting for a scrypt check (at most GS_MQTT_AUTH_QUEUE; past it refused as busy)', registers }),
    mqttConnections: new Gauge({ name: 'gs_mqtt_open_connections', help: 'Open MQTT transport connections (TCP, TLS, WebSocket), authenticated or not', registers }),
    deadLetters: new Counter({ name: 'gs_dead_letters_total', help: 'Messages kept in the dead-letter store, by reason', labelNames: ['reason'] as const, registers }),
    alertSignalsPending: new Gauge({ name: 'gs_alert_signals_pending', help: 'Alert signals held for the alert store, not yet applied (PostgreSQL away; at most 10,000)', registers }),
    alertSignalsDropped: new Counter({ name: 'gs_alert_signals_dropped_total', help: 'Alert signals never applied, by reason: repeat (the queue full, a newer signal of the same kind and subject behind it), oldest (the queue full of distinct ones), refused (the store refused it for good)', labelNames: ['reason'] as const, registers }),
    registryFkViolations: new Counter({ name: 'gs_registry_replica_fk_violations_total', help: 'Registry rows an apply of another node\'s changes left pointing at a missing row (clustered registry; docs/cluster.md), by table, the table it points into, and outcome: deleted or set_null (its ON DELETE rule, as on one node; shipped), left (no rule: kept as it came, the same on every node), unchecked (the check of that table failed; parent "*")', labelNames: ['table', 'parent', 'outcome'] as const, registers }),
    valveStaleRefusals: new Counter({ name: 'gs_valve_stale_refusals_total', help: 'Valve acks refusing a command as stale (contracts/commands.ts isStaleCommand), seen by the zone\'s owner, by command: late (one no longer waited for: a late copy dropped, as it should be), pending (the command waited for: re-issued once with a fresh issuedAt, under a new id), pending_again (refused again: valve_no_ack; check the valve\'s clock)', labelNames: ['command'] as const, registers }),
    listenerErrors: new Counter({ name: 'gs_listener_errors_total', help: 'Throws from a feature\'s listener (readings, transitions), by feature; the other listeners still ran', labelNames: ['feature'] as const, registers }),
  };
  return metrics;
}
