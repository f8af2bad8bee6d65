import type { Logger } from '../lib/logger.ts';
import { communityKey, type CommunityOwnership } from '../contracts/ownership.ts';
import type { ActiveAlert, HealthMonitor } from './monitor.ts';

export interface OwnershipSeedDeps {
  ownership: Pick<CommunityOwnership, 'owns' | 'onChange'>;
  monitor: Pick<HealthMonitor, 'adopt' | 'forget' | 'settled' | 'signalsFor'>;
  /** The shared store's active alerts of these communities (alert service `activeIn`). */
  activeIn(communities: readonly string[]): Promise<ReadonlyArray<ActiveAlert & { communityId: string | null }>>;
  logger: Logger;
  /** First wait before reading again after a failure, doubled up to 30 s (default 1 s). */
  retryMs?: number;
}

/**
 * The health monitor follows this node's communities (clustered mode): a community lost is
 * forgotten; a community gained has its detectors seeded from the alerts active in the shared
 * store (PostgreSQL), which the previous owner raised — read again, doubling the wait, while
 * the store does not answer and the community is still this node's. Returns the stop.
 */
export function followOwnership(deps: OwnershipSeedDeps): () => void {
  const log = deps.logger.child({ module: 'health' });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const seed = async (gained: readonly string[], wait: number): Promise<void> => {
    const mine = gained.filter((c) => deps.ownership.owns(c));
    if (stopped || mine.length === 0) return;
    try {
      // The snapshot must hold every signal this node gave for these communities, or adopting it
      // would wipe a raise made since the gain (and its clear would never be sent): wait for the
      // queue, read, and read again (a few times at most) if one of theirs came meanwhile.
      let active: Awaited<ReturnType<OwnershipSeedDeps['activeIn']>> = [];
      for (let read = 0; read < 5; read++) {
        const given = deps.monitor.signalsFor(mine);
        await deps.monitor.settled();
        active = await deps.activeIn(mine);
        if (deps.monitor.signalsFor(mine) === given) break;
      }
      const still = mine.filter((c) => deps.ownership.owns(c));
      deps.monitor.adopt(still, active.filter((a) => still.includes(communityKey(a.communityId ?? undefined))));
      log.info({ communities: still.length, active: active.length }, 'detectors seeded for gained communities');
    } catch (error) {
      log.error({ err: error, communities: mine, retryInMs: wait }, 'active alerts of gained communities not read: retrying');
      timer = setTimeout(() => { void seed(mine, Math.min(wait * 2, 30_000)); }, wait);
    }
  };

  const unsubscribe = deps.ownership.onChange('health', ({ gained, lost }) => {
    if (lost.length > 0) deps.monitor.forget(lost);
    if (gained.length > 0) void seed(gained, deps.retryMs ?? 1_000);
  });
  return () => {
    stopped = true;
    clearTimeout(timer);
    unsubscribe();
  };
}
