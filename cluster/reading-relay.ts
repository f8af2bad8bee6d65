import { z } from 'zod';
import { DeviceKind, ReadingFields, type AcceptedReading } from '../contracts/reading.ts';
import { EntityId, type DeviceInfo } from '../contracts/device.ts';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../lib/metrics.ts';
import { communityKey, type CommunityOwnership } from './community-ownership.ts';

/**
 * The internal topic a node republishes accepted readings on for the community's owner.
 * '$' topics are matched by no client wildcard (MQTT 3.1.1 §4.7.2) and the broker's ACL
 * refuses `$gs/` to every client, admins included (broker/acl.ts).
 */
export const RELAY_PREFIX = '$gs/readings/';
export const relayTopic = (communityId: string | undefined): string => `${RELAY_PREFIX}${communityKey(communityId)}`;

/** A relayed reading is one reading of at most a few hundred bytes; anything much larger is not ours. */
const MAX_RELAY_BYTES = 16 * 1024;

const Relayed = z.strictObject({
  origin: z.string().min(1).max(200),
  community: z.string().min(1).max(64),
  // Unknown keys are dropped, not refused: a node running a newer version may send more.
  reading: z.object({
    deviceId: EntityId,
    ts: z.number().finite(),
    receivedAt: z.number().finite(),
    kind: DeviceKind,
    dedupKey: z.union([z.string().max(200), z.strictObject({ counter: z.enum(['s', 'f']), n: z.number(), ts: z.number() })]).optional(),
    fields: ReadingFields,
    source: z.enum(['native', 'chirpstack', 'tts']),
    fCnt: z.number().int().optional(),
    simulated: z.boolean().optional(),
  }),
});

const parseJson = (payload: Buffer): unknown => {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined; // refused by the schema, with the others
  }
};

/** The broker tier's mqemitter (mqemitter-redis): what the relay uses of it. */
export interface RelayEmitter {
  emit(message: { topic: string; payload: Buffer }, done?: (error?: unknown) => void): unknown;
  on(topic: string, listener: (message: { topic: string; payload: unknown }, done: () => void) => void, done?: () => void): unknown;
  removeListener(topic: string, listener: (message: { topic: string; payload: unknown }, done: () => void) => void, done?: () => void): unknown;
}

export interface ReadingRelayDeps {
  nodeId: string;
  mq: RelayEmitter;
  ownership: Pick<CommunityOwnership, 'owns'>;
  /** The reading listeners (rules): called for each reading of a community this node owns, once. */
  deliver: (reading: AcceptedReading, device: DeviceInfo) => void;
  /** This node's view of a relayed reading's device (the registry). */
  lookup: (deviceId: string) => DeviceInfo | undefined;
  metrics: Metrics;
  logger: Logger;
}

/**
 * Readings reach their community's owner whichever node the device is connected to. The
 * receiving node has stored the reading as in one process (durable log, InfluxDB, PUBACK);
 * then, for a community it owns, it hands the reading to its own listeners, and for one
 * it does not, it republishes it on `$gs/readings/<community>` over the broker's bus, which
 * the owner consumes and hands to its listeners as a local reading. A reading is never
 * both delivered locally and relayed, so no node sees it twice; a relayed reading whose
 * community changed owner on the way is dropped by the node that no longer owns it.
 */
export function createReadingRelay(deps: ReadingRelayDeps) {
  const { metrics, mq } = deps;
  const log = deps.logger.child({ module: 'reading-relay' });
  const count = (outcome: string) => metrics.clusterRelay.inc({ outcome });

  const onMessage = (message: { topic: string; payload: unknown }, done: () => void): void => {
    try {
      receive(message);
    } catch (error) {
      count('failed');
      log.error({ err: error, topic: message.topic }, 'relayed reading not delivered');
    }
    done();
  };

  const receive = (message: { topic: string; payload: unknown }): void => {
    const community = message.topic.slice(RELAY_PREFIX.length);
    if (!deps.ownership.owns(community === communityKey(undefined) ? undefined : community)) return; // another node's, or its own relay of a community it does not own
    const payload = message.payload;
    if (!Buffer.isBuffer(payload) || payload.length > MAX_RELAY_BYTES) {
      count('refused');
      return;
    }
    const parsed = Relayed.safeParse(parseJson(payload));
    if (!parsed.success || parsed.data.community !== community) {
      count('refused');
      log.warn({ topic: message.topic, issues: parsed.success ? 'community mismatch' : parsed.error.issues.slice(0, 3) }, 'relayed reading refused');
      return;
    }
    const reading = parsed.data.reading as AcceptedReading;
    const device = deps.lookup(reading.deviceId);
    if (!device) {
      count('unknown_device');
      log.warn({ deviceId: reading.deviceId, origin: parsed.data.origin }, 'relayed reading of a device this node does not know: not evaluated');
      return;
    }
    count('received');
    deps.deliver(reading, device);
  };

  return {
    /** An accepted, durable reading on this node (the ingest's `onReading`). */
    accepted(reading: AcceptedReading, device: DeviceInfo): void {
      if (deps.ownership.owns(device.communityId)) {
        deps.deliver(reading, device);
        return;
      }
      const community = communityKey(device.communityId);
      const payload = Buffer.from(JSON.stringify({ origin: deps.nodeId, community, reading }));
      count('sent');
      mq.emit({ topic: relayTopic(device.communityId), payload }, (error) => {
        if (!error) return;
        count('failed');
        log.error({ err: error, deviceId: reading.deviceId, community }, 'reading not relayed to its community\'s owner');
      });
    },
    /** Consume the relayed readings (every node subscribes; each keeps its own communities'). */
    start(): Promise<void> {
      return new Promise((resolve) => { mq.on(`${RELAY_PREFIX}+`, onMessage, resolve); });
    },
    /**
     * Unsubscribe; the broker may have closed the bus already (the doors close first), and
     * an unsubscribe waiting for a Redis that is gone must not hold the stop: bounded.
     */
    stop(): Promise<void> {
      if ((mq as { closed?: boolean }).closed) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, 1_000);
        mq.removeListener(`${RELAY_PREFIX}+`, onMessage, () => { clearTimeout(timer); resolve(); });
      });
    },
  };
}
