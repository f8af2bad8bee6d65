import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger.ts';
import type { SharedDedup } from '../ingest/shared-dedup.ts';

export interface RedisDedupOptions {
  /** Who claims: a claim of this node's own is its own (a resend to the same node, after a failed append). */
  nodeId: string;
  /** How long a stored reading's key is remembered (QoS 1 retransmissions come within minutes of a reconnect). */
  storedTtlMs?: number;
  /** How long a claim not yet stored holds (its node died before the append: then another node may take it). */
  pendingTtlMs?: number;
  /** A claim still waiting on another node's after this is given up on: the reading is stored. */
  timeoutMs?: number;
  /** One Redis call not answered within this (Redis away): the reading is stored without the filter. */
  answerTimeoutMs?: number;
  /** Between looks at a key another node is storing. */
  pollMs?: number;
  /**
   * Take over at once the pending claim of a node whose heartbeat (`startDedupHeartbeat`)
   * has lapsed, instead of waiting for the claim to expire: a node killed with readings in
   * flight held its devices' retransmissions on the survivor for the whole pending TTL
   * (measured 10 s, every device of the killed node stalled: aedes takes a client's next
   * packet only once the last one is authorized). Off unless every node heartbeats.
   */
  liveness?: boolean;
}

export const ALIVE_PREFIX = 'gs:alive:';
/** A node's heartbeat lapses this long after its last beat (one a second): a takeover within ~3 s of a kill. */
export const ALIVE_TTL_MS = 3_000;

/**
 * This node's heartbeat for the duplicate filter's takeover (`liveness`): `gs:alive:<node>`
 * set every second with a 3 s expiry. A node whose event loop stalls longer than that may
 * have a claim taken while it is still appending: that reading is then stored by both
 * nodes (with a device timestamp, one point in InfluxDB; counted twice in the metrics).
 */
export function startDedupHeartbeat(redis: Redis, nodeId: string, logger: Logger): { stop(): void } {
  // Not while Redis is away (the connection would queue a beat a second until it returns);
  // again as soon as it is back. A first connect still under way is not away.
  const away = (): boolean => redis.status === 'reconnecting' || redis.status === 'close' || redis.status === 'end';
  const beat = () => {
    if (away()) return;
    redis.set(ALIVE_PREFIX + nodeId, '1', 'PX', ALIVE_TTL_MS).catch((error: unknown) => logger.debug({ err: error }, 'heartbeat not written'));
  };
  beat();
  redis.on('ready', beat);
  const timer = setInterval(beat, ALIVE_TTL_MS / 3);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      redis.off('ready', beat);
    },
  };
}

const PREFIX = 'gs:dedup:';

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} in ${ms} ms`)), ms); });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Atomic claim: absent → ours (pending, short TTL); "stored" → a duplicate; another
 * node's pending claim → wait, unless (with liveness, ARGV[3] the heartbeat prefix) that
 * node's heartbeat is gone: then ours; our own pending claim → still ours. The value is
 * `pending:<node>`, so `string.sub(v, 9)` is the node.
 */
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 'won' end
if v == 'stored' then return 'stored' end
if v == ARGV[1] then return 'won' end
if ARGV[3] ~= '' and redis.call('EXISTS', ARGV[3] .. string.sub(v, 9)) == 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 'won'
end
return 'pending'`;

/** Drop a claim only while it is still ours (a late release must not free another node's). */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** The shared duplicate filter over Redis: one round trip per key, pipelined by ioredis. */
export function createRedisDedup(redis: Redis, logger: Logger, options: RedisDedupOptions): SharedDedup {
  const storedTtlMs = options.storedTtlMs ?? 3_600_000;
  const pendingTtlMs = options.pendingTtlMs ?? 10_000;
  const timeoutMs = options.timeoutMs ?? pendingTtlMs + 2_000;
  const pollMs = options.pollMs ?? 50;
  const answerTimeoutMs = options.answerTimeoutMs ?? 1_000;
  const mine = `pending:${options.nodeId}`;
  const alive = options.liveness ? ALIVE_PREFIX : '';
  const log = logger.child({ module: 'cluster-dedup' });

  const claimOne = async (key: string, deadline: number): Promise<'won' | 'stored'> => {
    for (;;) {
      const result = await withTimeout(redis.eval(CLAIM, 1, PREFIX + key, mine, String(pendingTtlMs), alive) as Promise<string>, answerTimeoutMs, 'Redis did not answer a claim');
      if (result === 'won' || result === 'stored') return result;
      if (Date.now() > deadline) throw new Error(`the claim on ${key} did not settle in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };
  const quietly = (what: string, work: Promise<unknown>) => work.catch((error: unknown) => log.warn({ err: error }, what));

  return {
    async claim(keys) {
      const deadline = Date.now() + timeoutMs;
      return withTimeout(Promise.all(keys.map((key) => claimOne(key, deadline))), timeoutMs + answerTimeoutMs, 'the claims did not settle');
    },
    stored(keys) {
      if (keys.length === 0) return;
      const batch = redis.pipeline();
      for (const key of keys) batch.set(PREFIX + key, 'stored', 'PX', storedTtlMs);
      void quietly('marking readings stored in Redis failed; their claims expire on their own', batch.exec());
    },
    release(keys) {
      for (const key of keys) void quietly('releasing a claim in Redis failed; it expires on its own', redis.eval(RELEASE, 1, PREFIX + key, mine));
    },
  };
}
