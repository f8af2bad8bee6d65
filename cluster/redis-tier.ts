import { Redis } from 'ioredis';
import mqemitterRedis from 'mqemitter-redis';
// No types ship with it: aedes takes it as `persistence?: any`.
// @ts-expect-error -- aedes-persistence-redis has no type declarations
import aedesPersistenceRedis from 'aedes-persistence-redis';
import { CodedError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';

/** How long a start waits for Redis to answer before it fails with the setting to check. */
const CONNECT_TIMEOUT_MS = 5_000;

/** A URL for messages: the password, if any, replaced. */
export const redactRedisUrl = (url: string): string => {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis://(unparsable)';
  }
};

/**
 * Answer one PING within the timeout, or throw a coded error naming GS_REDIS_URL: a node
 * whose Redis is down must not start as a lone broker that thinks it is part of a cluster.
 */
async function checkRedis(url: string): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: CONNECT_TIMEOUT_MS, enableOfflineQueue: false });
  probe.on('error', () => undefined); // the rejected connect says it
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new CodedError('redis_unreachable', `GS_REDIS_URL ${redactRedisUrl(url)} does not answer (${(error as Error).message}): start Redis there or correct the setting (GS_CLUSTER=redis needs it)`, { cause: error });
  } finally {
    probe.disconnect();
  }
}

export interface RedisBrokerTier {
  /** aedes' `mq`: every publish goes through Redis pub/sub, to every node. */
  mq: unknown;
  /** aedes' `persistence`: subscriptions, retained messages, sessions and wills in Redis. */
  persistence: unknown;
  /** The persistence's connection, shared with the duplicate filter (cluster/redis-dedup.ts). */
  redis: Redis;
  /** PING over the persistence connection (readiness). */
  ping(): Promise<boolean>;
  /** After aedes closed (which closes `mq`): the persistence's connection. */
  close(): Promise<void>;
}

/**
 * The broker tier of the clustered mode (GS_CLUSTER=redis): aedes' own cluster packages.
 * mqemitter-redis carries every publish to every node, so a command published on node A
 * reaches a valve subscribed on node B, and the valve's ack reaches node A's executor.
 * aedes-persistence-redis keeps subscriptions, retained messages (device status), QoS 1
 * queues of persistent sessions and wills in Redis, so a device that reconnects to another
 * node finds its session there.
 */
type Emitter = { emit(packet: { topic: string }, done?: (error?: unknown) => void): unknown };

/**
 * Readings do not wait for Redis: the ingest has them on this node's disk before the bus
 * sees them, and aedes handles a client's next packet only once the bus took the last. A
 * reading's publish over Redis is sent without waiting for its answer, so a Redis outage
 * never holds devices' readings; everything else (commands, acks, status) waits as before.
 */
export function readingsDoNotWait<T extends Emitter>(mq: T, isReadingTopic: (topic: string) => boolean, onError: (error: Error) => void): T {
  const emit = mq.emit.bind(mq);
  mq.emit = (packet, done) => {
    if (!isReadingTopic(packet.topic)) return emit(packet, done);
    emit(packet, (error) => { if (error) onError(error as Error); });
    done?.();
    return undefined;
  };
  return mq;
}

/**
 * Publishes that may wait for an absent Redis before more are dropped. While Redis is away
 * ioredis queues every command in memory until it returns (or for ~20 reconnects, then
 * fails them and queues again): at a city's 3 readings/s that is little, but a burst or a
 * long outage would grow it without bound. 10,000 waiting messages are ~10 MB.
 */
export const BUS_MAX_WAITING = 10_000;

/**
 * Past `maxWaiting` publishes unanswered while the publishing connection is not ready, a
 * publish is dropped: counted (`onDrop`), its callback answered at once without an error.
 * Not an error: an error from the bus would end the publishing device's connection in
 * aedes, for Redis' absence, not its fault. What is dropped reaches no node (while Redis
 * is away nothing does, this node's own subscribers included: the bus is their path too);
 * a reading is on this node's disk already, a command is retried by the executor and its
 * missing ack raises valve_no_ack, a status is published again at the device's next change.
 */
export function boundedWhileAway<T extends Emitter>(mq: T, conn: { status: string }, maxWaiting: number, onDrop: (topic: string) => void): T {
  const emit = mq.emit.bind(mq);
  let waiting = 0;
  mq.emit = (packet, done) => {
    if (conn.status !== 'ready' && waiting >= maxWaiting) {
      onDrop(packet.topic);
      done?.();
      return undefined;
    }
    waiting++;
    return emit(packet, (error) => {
      waiting--;
      done?.(error);
    });
  };
  return mq;
}

/** How long closing the bus may wait for Redis to confirm its QUITs. */
const CLOSE_WAIT_MS = 2_000;

/**
 * mqemitter-redis closes by QUIT on both connections and waits for their end: with Redis
 * gone the QUITs wait in ioredis' queue for ever, and so would the app's stop. Past a
 * short wait the connections are dropped and the close goes on. It also drops the QUITs'
 * promises: one rejected ("Connection is closed": the connection ended before Redis
 * answered, or was dropped here) was an unhandled rejection, which ends a Node process —
 * seen at a node's stop in CI. Their rejections are handled here (the close goes on by
 * the connections' `end`, as before).
 */
function closesWithoutRedis<T extends { close(cb: () => void): unknown }>(mq: T): T {
  const close = mq.close.bind(mq);
  const conns = mq as unknown as { subConn: Redis; pubConn: Redis };
  for (const conn of [conns.subConn, conns.pubConn]) {
    const quit = conn.quit.bind(conn);
    conn.quit = ((...args: Parameters<Redis['quit']>) => {
      const answer = quit(...args);
      answer.catch(() => undefined);
      return answer;
    }) as Redis['quit'];
  }
  mq.close = (cb) => {
    let done = false;
    const finish = () => { if (!done) { done = true; clearTimeout(timer); cb(); } };
    const timer = setTimeout(() => {
      conns.subConn.disconnect();
      conns.pubConn.disconnect();
      finish();
    }, CLOSE_WAIT_MS);
    close(finish);
    return mq;
  };
  return mq;
}

export interface BusOptions {
  /** Told of each publish dropped because Redis was away and `maxWaiting` were already waiting. */
  onDrop?: (topic: string) => void;
  maxWaiting?: number;
}

export async function connectRedisBrokerTier(url: string, logger: Logger, isReadingTopic: (topic: string) => boolean, bus: BusOptions = {}): Promise<RedisBrokerTier> {
  await checkRedis(url);
  const log = logger.child({ module: 'cluster', redis: redactRedisUrl(url) });
  let lastError = 0;
  const onError = (error: Error) => {
    // ioredis reconnects by itself; one line per 10 s is enough to say Redis is away.
    if (Date.now() - lastError < 10_000) return;
    lastError = Date.now();
    log.error({ err: error }, 'Redis connection failed; reconnecting (messages to other nodes wait)');
  };
  const emitter = mqemitterRedis({ connectionString: url });
  let lastDrop = 0;
  const onDrop = (topic: string) => {
    bus.onDrop?.(topic);
    if (Date.now() - lastDrop < 10_000) return;
    lastDrop = Date.now();
    log.warn({ maxWaiting: bus.maxWaiting ?? BUS_MAX_WAITING }, 'Redis away and its queue full: dropping messages to other nodes (counted in gs_cluster_bus_dropped_total)');
  };
  const pubConn = (emitter as unknown as { pubConn: Redis }).pubConn;
  const mq = closesWithoutRedis(readingsDoNotWait(boundedWhileAway(emitter, pubConn, bus.maxWaiting ?? BUS_MAX_WAITING, onDrop), isReadingTopic, onError));
  (mq as unknown as { state: NodeJS.EventEmitter }).state.on('error', onError);
  // Commands wait for Redis to come back rather than fail after 20 reconnects: a failure
  // there would surface as a rejection some persistence call never handles, which ends
  // the process. What waits is bounded by the callers (the duplicate filter's own timeout).
  const conn = new Redis(url, { maxRetriesPerRequest: null });
  conn.on('error', onError);
  const persistence = aedesPersistenceRedis({ conn });
  log.info('clustered broker tier: Redis pub/sub and persistence');
  return {
    mq,
    persistence,
    redis: conn,
    async ping(): Promise<boolean> {
      if (conn.status !== 'ready') return false; // a PING would wait in the queue for Redis' return
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), 1_000); });
      try {
        return await Promise.race([conn.ping().then((answer) => answer === 'PONG'), late]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    async close(): Promise<void> {
      // Not persistence.destroy(): it unsubscribes through aedes' mq, which aedes.close() has closed.
      if (conn.status === 'ready') await conn.quit().catch(() => conn.disconnect());
      else conn.disconnect(); // a QUIT would wait in ioredis' queue for a Redis that is gone
    },
  };
}
