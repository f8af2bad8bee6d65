import type { Redis } from 'ioredis';
import type { LeaseStore } from './lease-store.ts';

const LEASE = 'gs:lease:';
const NODES = 'gs:nodes';
/**
 * Each lease's fencing token: INCR at every acquisition, never expiring, and never below the
 * Redis server's clock in microseconds (TIME) — so a Redis that lost its data (a restart
 * without persistence, a failover to a replica behind) does not start the tokens again at 1,
 * below the ones PostgreSQL has kept (community_fences): every rightful owner's claim and
 * write would be refused, every community fenced off. Below 2^53 until the year 2255.
 */
const GENERATION = 'gs:lease-gen:';

/** Renew only while ours (compare-and-set): a node that lost its lease must not take it back by renewing. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
/**
 * Take a free lease and count the acquisition, atomically (a token read apart from its SET
 * could be a later holder's); our own lease answers its current token; another's, 0.
 */
const ACQUIRE = `local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  local token = redis.call('INCR', KEYS[2])
  local t = redis.call('TIME')
  local floor = tonumber(t[1]) * 1000000 + tonumber(t[2])
  if token < floor then
    redis.call('SET', KEYS[2], string.format('%d', floor))
    token = floor
  end
  return token
end
if holder == ARGV[1] then return tonumber(redis.call('GET', KEYS[2]) or '0') end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
/**
 * A heartbeat and the expired ones' removal, atomically. One script rather than MULTI: a
 * connection closing under a MULTI leaves its queued commands' promises rejected with no
 * handler (ioredis issue 883), an unhandled rejection that ends a Node process.
 */
const HEARTBEAT = `redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2]) redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[3]) return 1`;

/**
 * Leases over Redis: a lease is a key holding its owner with a TTL (`SET NX PX`); renew and
 * release compare the owner first; each acquisition increments the key's fencing token
 * (`gs:lease-gen:<key>`). Heartbeats are a sorted set of owners by expiry.
 */
export function createRedisLeaseStore(redis: Redis): LeaseStore {
  return {
    async acquire(key, owner, ttlMs) {
      const token = Number(await redis.eval(ACQUIRE, 2, LEASE + key, GENERATION + key, owner, String(ttlMs)));
      return token > 0 ? token : undefined;
    },
    async renew(key, owner, ttlMs) {
      return (await redis.eval(RENEW, 1, LEASE + key, owner, String(ttlMs))) === 1;
    },
    async release(key, owner) {
      await redis.eval(RELEASE, 1, LEASE + key, owner);
    },
    async holders(keys) {
      const values = keys.length > 0 ? await redis.mget(keys.map((k) => LEASE + k)) : [];
      return new Map(keys.map((k, i) => [k, values[i] ?? undefined]));
    },
    async heartbeat(owner, ttlMs) {
      const now = Date.now();
      await redis.eval(HEARTBEAT, 1, NODES, String(now + ttlMs), owner, String(now));
    },
    async liveOwners() {
      return redis.zrangebyscore(NODES, Date.now(), '+inf');
    },
  };
}
