import { dedupKeyText } from '../contracts/reading.ts';
import type { ParsedTopic } from '../contracts/topics.ts';
import type { Rejection } from '../contracts/rejects.ts';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../lib/metrics.ts';
import type { DecodedItem } from './decoders/types.ts';
import type { Settle } from './group-commit.ts';
import type { IngestMessage } from './pipeline.ts';

/**
 * The QoS 1 duplicate filter across nodes (clustered mode). Each node keeps its own window
 * (dedup.ts); a retransmission that lands on another node — the device reconnected there
 * before its PUBACK came — is caught here. A reading is claimed before its append; the
 * claim says "on its way to disk on node X", then "stored" once durable, and is dropped if
 * the append failed, so a retransmission is never taken for a duplicate of a reading that
 * was not stored. Implemented over Redis in cluster/redis-dedup.ts.
 */
export interface SharedDedup {
  /**
   * Claim each key for this node: `won` (store it), or `stored` (another node has it on
   * disk: a duplicate). A key another node holds but has not stored yet is waited for.
   * Rejects when the shared store does not answer in time: the caller then stores (a
   * reading with a device timestamp would overwrite itself in InfluxDB anyway).
   */
  claim(keys: readonly string[]): Promise<Array<'won' | 'stored'>>;
  /** The claimed readings are durable here. */
  stored(keys: readonly string[]): void;
  /** Their append failed: a retransmission must get through. */
  release(keys: readonly string[]): void;
}

/**
 * The key of one decoded reading across nodes: its device as the message named it (an id,
 * or a LoRaWAN dev EUI) and its retransmission key; undefined when it has none (no
 * sequence number or frame counter: nothing to recognise a retransmission by).
 */
export function sharedKeyOf(item: DecodedItem): string | undefined {
  if (!item.ok || item.value.reading.dedupKey === undefined) return undefined;
  const ref = item.value.deviceRef;
  const device = ref.by === 'id' ? `id:${ref.id}` : `eui:${ref.devEui.toLowerCase()}`;
  return `${device}\u0000${dedupKeyText(item.value.reading.dedupKey)}`;
}

type Accept = (items: DecodedItem[], topic: ParsedTopic, msg: IngestMessage, receivedAt: number, settle: Settle | undefined, shared?: { duplicates: number; claimed: string[] }) => void;

/**
 * The ingest's step before acceptance in clustered mode: readings another node already
 * stored are refused as duplicates (and settled as such), the rest claimed for this node
 * and accepted. When the shared store fails, everything is accepted (and that is counted).
 */
export function createClaimStep(deps: { shared: SharedDedup; reject: (r: Rejection, msg: IngestMessage, deviceId: string | undefined) => void; metrics: Pick<Metrics, 'clusterDedupUnavailable'>; logger: Logger; accept: Accept }) {
  return (items: DecodedItem[], topic: ParsedTopic, msg: IngestMessage, receivedAt: number, settle: Settle | undefined): void => {
    const keys = items.map(sharedKeyOf);
    const wanted = keys.filter((k): k is string => k !== undefined);
    if (wanted.length === 0) return deps.accept(items, topic, msg, receivedAt, settle);
    deps.shared.claim(wanted).then((results) => {
      const storedElsewhere = new Set(wanted.filter((_, i) => results[i] === 'stored'));
      const kept = items.filter((_, i) => !storedElsewhere.has(keys[i]!));
      for (const key of storedElsewhere) {
        const [device, seq] = key.split('\u0000');
        deps.reject({ reason: 'duplicate', detail: `reading ${seq} of ${device} was already stored by another node` }, msg, msg.device?.id);
      }
      deps.accept(kept, topic, msg, receivedAt, settle, { duplicates: storedElsewhere.size, claimed: wanted.filter((k) => !storedElsewhere.has(k)) });
    }, (error: unknown) => {
      deps.metrics.clusterDedupUnavailable.inc();
      deps.logger.warn({ err: error }, 'the shared duplicate filter did not answer: storing without it');
      deps.accept(items, topic, msg, receivedAt, settle);
    });
  };
}
