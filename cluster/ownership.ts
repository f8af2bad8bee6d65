import type { Logger } from '../lib/logger.ts';
import type { LeaseStore } from './lease-store.ts';

export interface OwnershipOptions {
  store: LeaseStore;
  nodeId: string;
  /** Every key to be owned (the city's communities). */
  keys: () => readonly string[];
  /** A lease's life; a dead node's keys are free this long after its last renewal. */
  ttlMs?: number;
  /** Between rounds (renew, rebalance, take free keys); well under ttlMs. */
  roundMs?: number;
  /** The keys this node owns changed (start or stop the owner's work for them). */
  onChange?: (owned: ReadonlySet<string>, gained: string[], lost: string[]) => void;
  logger: Logger;
}

/**
 * This node's share of the keys: each round it says it is alive, renews what it holds
 * (a lease it lost is dropped at once), gives back what is above its fair share
 * (ceil(keys / live nodes)) so a node that joins gets some, and takes free or expired
 * keys up to that share. One survivor's share is everything: a dead node's keys move to
 * it within ttlMs + roundMs.
 */
export function createOwnership(options: OwnershipOptions) {
  const { store, nodeId, logger } = options;
  const ttlMs = options.ttlMs ?? 10_000;
  const roundMs = options.roundMs ?? 3_000;
  const owned = new Set<string>();
  /** The fencing token of this node's latest acquisition of each key; kept after a loss (the writes of a run being let go carry it). */
  const tokens = new Map<string, number>();
  /**
   * Keys acquired in the round under way, not yet announced (onChange): not owned to the
   * features until then. A round goes on acquiring (a Redis round trip per key) before it
   * announces, and a key owned meanwhile would be acted on with this node's memory of it —
   * perhaps from before another node held it — before the takeover marks it and reads its state.
   */
  const announcing = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  /** When the last round that renewed every held lease began: those leases last at least ttlMs from then. */
  let confirmedAt = Date.now();

  async function round(): Promise<void> {
    const gained: string[] = [];
    const lost: string[] = [];
    const began = Date.now();
    try {
      await keepShare(gained, lost, began);
    } finally {
      announcing.clear(); // owned from the announcement on (no await between: onChange marks the takeover first)
      // Reported even when the round failed half-way: a lease found lost is lost.
      if (gained.length > 0 || lost.length > 0) {
        logger.info({ module: 'ownership', nodeId, owned: owned.size, gained: gained.length, lost: lost.length }, 'community ownership changed');
        options.onChange?.(owned, gained, lost);
      }
    }
  }

  async function keepShare(gained: string[], lost: string[], began: number): Promise<void> {
    await store.heartbeat(nodeId, ttlMs);
    for (const key of [...owned]) {
      if (!(await store.renew(key, nodeId, ttlMs))) { owned.delete(key); lost.push(key); }
    }
    confirmedAt = began;
    const keys = options.keys();
    const current = new Set(keys);
    const live = Math.max(1, (await store.liveOwners()).length);
    const share = Math.ceil(keys.length / live);
    // Keys no longer listed (a community retired) are given back first: they count for nothing.
    const surplus = [...owned].filter((k) => !current.has(k));
    for (const key of [...surplus, ...[...owned].filter((k) => current.has(k)).slice(share)]) {
      await store.release(key, nodeId);
      owned.delete(key);
      lost.push(key);
    }
    const holders = await store.holders(keys.filter((k) => !owned.has(k)));
    for (const [key, holder] of holders) {
      if (owned.size >= share) break;
      if (holder !== undefined) continue;
      const token = await store.acquire(key, nodeId, ttlMs);
      if (token !== undefined) { owned.add(key); announcing.add(key); tokens.set(key, token); gained.push(key); }
    }
  }

  /**
   * A round failed (the store did not answer). Held leases last ttlMs from the last round
   * that renewed them; if the next check could come after that (a round apart, plus a
   * failing round's own wait for the store, counted as another round), another node may
   * hold them by then: give everything up now rather than act as a second owner.
   */
  const failed = (error: unknown) => {
    logger.error({ module: 'ownership', err: error }, 'ownership round failed; retrying');
    if (owned.size === 0 || Date.now() + 2 * roundMs < confirmedAt + ttlMs) return;
    const lost = [...owned];
    owned.clear();
    logger.warn({ module: 'ownership', nodeId, lost: lost.length }, 'leases not renewed in time: every community given up until the store answers');
    options.onChange?.(owned, [], lost);
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = round().catch(failed).finally(schedule);
    }, roundMs);
  };

  return {
    /** Take a first share now, then keep it each round. */
    async start(): Promise<void> {
      await round();
      schedule();
    },
    owns: (key: string): boolean => owned.has(key) && !announcing.has(key),
    owned: (): ReadonlySet<string> => owned,
    /** The fencing token of this node's latest hold of `key` (held now or lost since); undefined if never held. */
    token: (key: string): number | undefined => tokens.get(key),
    /** Orderly stop: give every lease back, so the others take them at their next round. */
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
      try {
        for (const key of owned) await store.release(key, nodeId);
        await store.heartbeat(nodeId, 0); // no longer live: the others' share grows at their next round
      } catch (error) {
        // The store is away: the leases expire by themselves, and the others take them then.
        logger.warn({ module: 'ownership', nodeId, err: error }, 'leases not handed back on stop; they expire');
      } finally {
        owned.clear();
      }
    },
  };
}
