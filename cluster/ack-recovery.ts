import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger.ts';
import { ACKED_NODES, ACKED_PREFIX } from './redis-ack-replica.ts';
import { ALIVE_PREFIX } from './redis-dedup.ts';

/**
 * A survivor's side of the acknowledged readings' copies (cluster/redis-ack-replica.ts): every
 * second it looks for nodes with a stream whose heartbeat (`gs:alive:<node>`, the duplicate
 * filter's, 3 s) has lapsed. One survivor takes such a node under a lock, appends its copies
 * to its own durable log (so they reach InfluxDB as this node's own points do, InfluxDB away
 * or not, and are copied again under this node), then deletes them. A point in InfluxDB with
 * the same series and time is overwritten, so a reading the dead node had shipped, or ships
 * after its restart, is stored once.
 */
export interface AckRecoveryOptions {
  redis: Redis;
  nodeId: string;
  /** This node's durable append; resolves once on its disk (and copied). */
  append: (lines: string[]) => Promise<void>;
  /** Points of another node's copies written here. */
  onRecovered: (points: number) => void;
  logger: Logger;
  everyMs?: number;
  /** The lock on a dead node's stream, renewed at each chunk. */
  lockMs?: number;
}

const LOCK_PREFIX = 'gs:acked-lock:';
/** Entries read at once: an entry is one durable-log write, a few lines or (in a flood) a few MB. */
const CHUNK_ENTRIES = 16;
/** An entry larger than any write the log makes is no copy of ours: skipped, logged. */
const MAX_ENTRY_BYTES = 64 * 1024 * 1024;

/** Renew or release the lock only while it is still ours. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
/** Done with a node: its stream and registration go, unless it wrote again or came back (a stalled node, not a dead one). */
const FINISH = `
if redis.call('XLEN', KEYS[1]) > 0 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[1])
return 1`;

/** The lines of one entry (`p` → whole lines, each ending in a newline), or undefined when it is not one of ours. */
function linesOf(fields: Buffer[]): string[] | undefined {
  if (fields.length !== 2 || fields[0]!.toString() !== 'p') return undefined;
  const body = fields[1]!;
  if (body.length === 0 || body.length > MAX_ENTRY_BYTES || body[body.length - 1] !== 0x0a) return undefined;
  return body.toString('utf8', 0, body.length - 1).split('\n');
}

export function startAckRecovery(o: AckRecoveryOptions) {
  const { redis } = o;
  const log = o.logger.child({ module: 'ack-recovery' });
  const lockMs = o.lockMs ?? 30_000;
  let stopped = false;
  let pass: Promise<void> | undefined;

  /** Write one dead node's copies here, a chunk at a time, deleting each once on this node's disk. */
  async function recover(node: string): Promise<void> {
    const key = ACKED_PREFIX + node;
    const lock = LOCK_PREFIX + node;
    if ((await redis.set(lock, o.nodeId, 'PX', lockMs, 'NX')) !== 'OK') return; // another survivor has it
    let points = 0;
    try {
      while (!stopped) {
        const entries = await redis.xrangeBuffer(key, '-', '+', 'COUNT', CHUNK_ENTRIES);
        if (entries.length === 0) break;
        const lines: string[] = [];
        for (const [id, fields] of entries) {
          const got = linesOf(fields);
          if (got) lines.push(...got);
          else log.error({ node, id: id.toString() }, 'an entry of a dead node\'s copies is not line protocol from a durable log: skipped');
        }
        if (lines.length > 0) await o.append(lines);
        await redis.xdel(key, ...entries.map(([id]) => id));
        points += lines.length;
        o.onRecovered(lines.length);
        if ((await redis.eval(RENEW, 1, lock, o.nodeId, String(lockMs))) === 0) return; // taken by another: it goes on from here
      }
      if (!stopped) await redis.eval(FINISH, 3, key, ALIVE_PREFIX + node, ACKED_NODES, node);
    } finally {
      await redis.eval(RELEASE, 1, lock, o.nodeId).catch((error: unknown) => log.debug({ err: error }, 'lock not released; it expires'));
      if (points > 0) log.warn({ node, points }, 'a node whose heartbeat lapsed left acknowledged points not yet in InfluxDB: written from its copies in Redis');
    }
  }

  async function look(): Promise<void> {
    if (redis.status !== 'ready') return;
    const nodes = (await redis.smembers(ACKED_NODES)).filter((n) => n !== o.nodeId);
    for (const node of nodes) {
      if (stopped) return;
      if ((await redis.exists(ALIVE_PREFIX + node)) === 0) await recover(node);
    }
  }

  const timer = setInterval(() => {
    if (pass || stopped) return;
    pass = look()
      .catch((error: unknown) => log.warn({ err: error }, 'looking for a dead node\'s copies failed; tried again in a second'))
      .finally(() => { pass = undefined; });
  }, o.everyMs ?? 1_000);
  timer.unref();

  return {
    /** Stop looking; a recovery under way ends after its chunk (what it did not delete stays for another survivor). */
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await pass;
    },
  };
}
