import type { Metrics } from '../lib/metrics.ts';

/**
 * The ingest's hot counters. Received messages are counted here and added to prom-client per
 * group commit (and before every rejection): a labelled inc per message costs a label hash
 * each time. The labelled children are made once per label.
 */
export function createIngestCounters(metrics: Metrics) {
  /** Messages received by topic format since the last flush; the submit path increments it directly. */
  const received = { native: 0, chirpstack: 0, tts: 0 };
  const acceptedBy = memo((kind: string) => metrics.readingsAccepted.labels(kind));
  const receivedBy = memo((format: string) => metrics.messagesReceived.labels(format));
  return {
    received,
    flush(): void {
      for (const format of ['native', 'chirpstack', 'tts'] as const) {
        if (received[format] > 0) receivedBy(format).inc(received[format]);
        received[format] = 0;
      }
    },
    /** The accepted-readings counter of a device kind (its labelled child, made once). */
    acceptedBy,
  };
}

function memo<V>(make: (key: string) => V): (key: string) => V {
  const cache = new Map<string, V>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) cache.set(key, (value = make(key)));
    return value;
  };
}
