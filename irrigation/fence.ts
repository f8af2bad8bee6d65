import type { Logger } from '../lib/logger.ts';
import type { ZoneIrrigationState } from '../rules/irrigation/state.ts';
import { FencedWriteError, type Fence, type IrrigationStore } from './store.ts';

export interface FenceDeps {
  /**
   * This node's fencing token for the community (CommunityOwnership.token: its latest lease's,
   * from the lease store). Absent — one process, or nodes each on their own store — nothing is
   * fenced and every write goes as before.
   */
  token?: (communityId: string) => number | undefined;
  communityOf: (zoneId: string) => string | undefined;
  store: Pick<IrrigationStore, 'claimFence' | 'saveStates'>;
  now: () => number;
  logger: Logger;
}

/** Items grouped by their zone's community, in first-seen order (undefined: a zone in no community). */
function byCommunity<T>(items: readonly T[], zoneOf: (item: T) => string, communityOf: (zoneId: string) => string | undefined): Map<string | undefined, T[]> {
  const groups = new Map<string | undefined, T[]>();
  for (const item of items) {
    const community = communityOf(zoneOf(item));
    const group = groups.get(community);
    if (group) group.push(item);
    else groups.set(community, [item]);
  }
  return groups;
}

/**
 * The irrigation writes fenced by the community's lease (clustered, shared store). A node
 * that lost a community's lease without knowing yet (a Redis blip: it learns at its next
 * round) would go on writing the zones' state, and on learning close the run it had open,
 * after the new owner read that state and perhaps opened the valve again. So the new owner
 * claims the community with its greater token before it reads (`claim`), every state write
 * carries the token it was decided under, and PostgreSQL refuses an older one in the write's
 * transaction (irrigation/store.ts). A refused write makes this node stop acting for the
 * community (`isFenced`: no evaluation, no further writes, its waiting commands dropped) until
 * it holds a newer lease.
 */
export function createFence(deps: FenceDeps) {
  // Each community fenced off here, with the newest of this node's tokens refused there. A
  // lease acquired since (a greater token) lifts it: that token's writes are checked by the
  // store in turn. Not only the takeover's claim: a claim the store failed (its catch starts
  // the zones afresh) would otherwise leave the node fenced off for as long as it holds the lease.
  const fenced = new Map<string, number>();
  const isFenced = (community: string): boolean => {
    const refusedToken = fenced.get(community);
    if (refusedToken === undefined) return false;
    const current = deps.token?.(community);
    return current === undefined || current <= refusedToken;
  };
  const stop = (community: string, token: number, why: string) => {
    const was = isFenced(community);
    fenced.set(community, Math.max(token, fenced.get(community) ?? token));
    if (!was) deps.logger.warn({ community }, why);
  };
  /** The fence a write decided now carries; undefined when not fenced (one process). */
  const of = (communityId: string): Fence | undefined => {
    const token = deps.token?.(communityId);
    return token === undefined ? undefined : { community: communityId, token };
  };
  const refused = (error: unknown): boolean => {
    if (!(error instanceof FencedWriteError)) return false;
    stop(error.community, error.token, 'irrigation write refused: another node holds a newer lease on the community; this node stops acting for it');
    return true;
  };
  return {
    of,
    /** A write of zone states under the fence they were decided with (queued: irrigation/write-queue.ts); a refusal fences the community off, not an error. */
    write: (states: readonly ZoneIrrigationState[], at: number, fence: Fence | undefined) => async (): Promise<void> => {
      if (fence && isFenced(fence.community)) return;
      try {
        await deps.store.saveStates(states, at, fence);
      } catch (error) {
        if (!refused(error)) throw error;
      }
    },
    /** A flush's states, one write per community when fenced (a community refused must not roll the others' back); one write otherwise. */
    split(states: readonly ZoneIrrigationState[]): Array<{ states: ZoneIrrigationState[]; fence: Fence | undefined }> {
      if (!deps.token) return states.length > 0 ? [{ states: [...states], fence: undefined }] : [];
      return [...byCommunity(states, (state) => state.zoneId, deps.communityOf)].map(([community, part]) => ({ states: part, fence: community === undefined ? undefined : of(community) }));
    },
    /** A newer owner refused this node's write to the community: it acts no more there. */
    isFenced,
    /** Whether `error` is the store's refusal of a stale write; if so, the community is fenced off here. */
    refused,
    /**
     * Claim the zones' communities with this node's tokens before their state is read: a stale
     * node's writes are refused from then on. The zones whose community a newer owner already
     * claimed are not this node's (it lost the lease again meanwhile): left out, fenced off.
     */
    async claim(zoneIds: readonly string[]): Promise<string[]> {
      const mine: string[] = [];
      for (const [community, zones] of byCommunity(zoneIds, (zoneId) => zoneId, deps.communityOf)) {
        if (community === undefined) continue;
        const fence = of(community);
        if (fence && !(await deps.store.claimFence(fence, deps.now()))) {
          stop(community, fence.token, 'community taken over, but a newer lease on it was claimed already: its zones are left to that owner');
          continue;
        }
        fenced.delete(community);
        mine.push(...zones);
      }
      return mine;
    },
  };
}
export type IrrigationFence = ReturnType<typeof createFence>;
