import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type NotifyMetrics = ReturnType<typeof createNotifyMetrics>;

/**
 * The notifier's metrics, on the app's registry. `channel` is the secret-free channel
 * key (`type:hash`), so a failing robot can be told apart from its healthy siblings.
 * The backlog gauges read the outbox when scraped.
 */
export function createNotifyMetrics(registry: Registry, backlog: () => Promise<{ pending: number; oldestAgeS: number }>) {
  const registers = [registry];
  // The outbox may be in PostgreSQL: a read that fails leaves the gauges as they were rather than fail the whole scrape.
  const read = (): Promise<{ pending: number; oldestAgeS: number } | undefined> => backlog().catch(() => undefined);
  return {
    sent: new Counter({ name: 'gs_notify_sent_total', help: 'Notifications delivered, by channel', labelNames: ['channel_type', 'channel'] as const, registers }),
    failures: new Counter({ name: 'gs_notify_send_failures_total', help: 'Failed delivery attempts (each retry counts), by channel', labelNames: ['channel_type', 'channel'] as const, registers }),
    gaveUp: new Counter({ name: 'gs_notify_given_up_total', help: 'Notifications abandoned after the last retry, by channel', labelNames: ['channel_type', 'channel'] as const, registers }),
    duration: new Histogram({
      name: 'gs_notify_send_duration_seconds',
      help: 'Delivery attempt latency, by channel type',
      labelNames: ['channel_type'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    unrouted: new Counter({ name: 'gs_notify_unrouted_total', help: 'Alert transitions that no team answers for (no community or no team)', registers }),
    silenced: new Counter({ name: 'gs_notify_silenced_total', help: 'Notification items held back by a silence', registers }),
    backlog: new Gauge({
      name: 'gs_notify_outbox_pending',
      help: 'Notifications in the outbox not yet delivered or abandoned',
      registers,
      async collect() { const b = await read(); if (b) this.set(b.pending); },
    }),
    oldest: new Gauge({
      name: 'gs_notify_outbox_oldest_age_seconds',
      help: 'Age of the oldest undelivered notification',
      registers,
      async collect() { const b = await read(); if (b) this.set(b.oldestAgeS); },
    }),
  };
}
