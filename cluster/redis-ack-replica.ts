import type { Redis } from 'ioredis';
import type { Cursor } from '../durable-log/segments.ts';
import type { Replica } from '../durable-log/replica.ts';
import type { Logger } from '../lib/logger.ts';

/**
 * What a node acknowledged, copied to Redis before its PUBACK (clustered mode), so that a
 * node killed with readings not yet in InfluxDB does not take them with it when its host
 * never comes back: a survivor writes them (cluster/ack-recovery.ts).
 *
 * One stream a node, `gs:acked:<node>`: one entry a durable-log write, its bytes as they are
 * on disk (whole line-protocol lines), its ID the write's end in the log,
 * `<segment>-<end offset>`. IDs so made grow with the log, so "everything the shipper has
 * in InfluxDB" (its cursor) is one `XTRIM … MINID <segment>-<offset + 1>`: entries wholly
 * before the cursor go, an entry the cursor is inside stays. Nodes with a stream are in the
 * set `gs:acked:nodes` (said again every second), where survivors look.
 */
export const ACKED_PREFIX = 'gs:acked:';
export const ACKED_NODES = 'gs:acked:nodes';
/** How long a PUBACK waits for Redis to take its copy before it goes on the node's own disk alone. */
export const REPLICA_WAIT_MS = 1_000;
/**
 * The most a node keeps in its stream (bytes of lines not yet confirmed by InfluxDB): a long
 * InfluxDB outage grows the durable log up to its budget (1 GiB by default), and Redis holds
 * the nodes' streams in memory. 64 MiB is ~600,000 readings, days of the city's 3 a second;
 * past it, writes are acknowledged on the node's disk alone (counted `full`) until the
 * shipper catches up.
 */
export const REPLICA_MAX_BYTES = 64 * 1024 * 1024;

export interface AckReplicaOptions {
  /** Its own connection: `enableOfflineQueue: false` (a copy while Redis is away fails at once) and `commandTimeout` (a copy Redis does not answer is given up on). */
  redis: Redis;
  nodeId: string;
  logger: Logger;
  /** Points acknowledged without their copy in Redis, by why: `away` (not connected), `timeout`, `error`, `full` (REPLICA_MAX_BYTES held). */
  onFallback: (reason: 'away' | 'timeout' | 'error' | 'full', points: number) => void;
  /** Default REPLICA_MAX_BYTES. */
  maxBytes?: number;
  /** Between the node's registrations in `gs:acked:nodes`. */
  registerEveryMs?: number;
}

const idOf = (segment: number, offset: number): string => `${segment}-${offset}`;
/** A node stopped with everything shipped: its stream and registration go. */
const FORGET = `redis.call('DEL', KEYS[1]) redis.call('SREM', KEYS[2], ARGV[1]) return 1`;

/** The durable log's replica over Redis, with its registration and its end. */
export function createRedisAckReplica(o: AckReplicaOptions) {
  const { redis } = o;
  const key = ACKED_PREFIX + o.nodeId;
  const log = o.logger.child({ module: 'ack-replica' });
  // The last ID asked for. A write refused by the disk leaves its copy behind, and the next
  // write ends at or before it: its ID is then the last one's offset + 1, which only keeps
  // that entry a little longer (an entry goes once the cursor is past its ID).
  let last = { segment: -1, offset: 0 };
  let lastWarned = 0;
  let trimming = false;
  let trimTo: Cursor | undefined;
  // What the stream holds, by entry (a copy that failed may have landed: kept until trimmed).
  const maxBytes = o.maxBytes ?? REPLICA_MAX_BYTES;
  const held: Array<{ segment: number; offset: number; bytes: number }> = [];
  let heldBytes = 0;

  const fallback = (error: unknown, points: number): void => {
    const message = (error as Error).message ?? '';
    const reason = message === 'full' ? 'full' : redis.status !== 'ready' || /writeable|offline queue/i.test(message) ? 'away' : /timed out/i.test(message) ? 'timeout' : 'error';
    o.onFallback(reason, points);
    if (Date.now() - lastWarned < 10_000) return;
    lastWarned = Date.now();
    log.warn({ err: error, reason, points }, 'acknowledged readings not copied to Redis (away, not answering in 1 s, or this node\'s copies full): acknowledged on this node\'s disk alone (counted in gs_cluster_ack_replica_fallback_total; lost if this host is lost before they are shipped)');
  };

  function trim(): void {
    if (trimming || !trimTo || redis.status !== 'ready') return;
    const to = trimTo;
    trimTo = undefined;
    trimming = true;
    redis.xtrim(key, 'MINID', idOf(to.segment, to.offset + 1))
      .catch((error: unknown) => log.debug({ err: error }, 'shipped copies not trimmed; the next commit trims them'))
      .finally(() => {
        trimming = false;
        trim();
      });
  }

  const register = (): void => {
    if (redis.status !== 'ready') return;
    redis.sadd(ACKED_NODES, o.nodeId).catch((error: unknown) => log.debug({ err: error }, 'registration not written'));
  };
  register();
  redis.on('ready', register);
  redis.on('ready', trim); // a trim skipped while Redis was away
  const timer = setInterval(register, o.registerEveryMs ?? 1_000);
  timer.unref();

  const replica: Replica = {
    copy(bytes, end, lines) {
      if (heldBytes + bytes.length > maxBytes) {
        fallback(new Error('full'), lines);
        return Promise.resolve();
      }
      const offset = end.segment === last.segment ? Math.max(end.offset, last.offset + 1) : end.offset;
      last = { segment: end.segment, offset };
      held.push({ segment: end.segment, offset, bytes: bytes.length });
      heldBytes += bytes.length;
      // A copy of the bytes: the log reuses its buffer for the next groups while the command waits to be written.
      return redis.xadd(key, idOf(end.segment, offset), 'p', Buffer.from(bytes)).then(() => undefined, (error: unknown) => fallback(error, lines));
    },
    shipped(cursor) {
      // The entries the trim removes: IDs up to <segment>-<offset>.
      while (held.length > 0 && (held[0]!.segment < cursor.segment || (held[0]!.segment === cursor.segment && held[0]!.offset <= cursor.offset))) heldBytes -= held.shift()!.bytes;
      trimTo = cursor;
      trim();
    },
  };

  return {
    replica,
    /**
     * Stop (after the durable log closed). `drained`: InfluxDB has everything this node wrote,
     * so its stream and registration go; otherwise both stay, and a survivor writes what is left
     * once this node's heartbeat lapses (the node's next start has it on disk too: a point
     * written twice is stored once).
     */
    async close(drained: boolean): Promise<void> {
      clearInterval(timer);
      redis.off('ready', register);
      redis.off('ready', trim);
      if (drained && redis.status === 'ready') {
        // One script, not MULTI: a connection closing under a MULTI leaves its queued commands'
        // promises rejected with no handler (ioredis issue 883), which would end the process.
        await redis.eval(FORGET, 2, key, ACKED_NODES, o.nodeId).catch((error: unknown) => log.warn({ err: error }, 'the node\'s copies not removed at stop; a survivor writes them again (stored once)'));
      }
      redis.disconnect();
    },
  };
}
