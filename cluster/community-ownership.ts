import { createListeners } from '../lib/listeners.ts';
import type { Logger } from '../lib/logger.ts';
import type { LeaseStore } from './lease-store.ts';
import { createOwnership } from './ownership.ts';
import { UNPLACED, communityKey, type CommunityOwnership, type OwnershipChange } from '../contracts/ownership.ts';

export { UNPLACED, communityKey, ownsEverything, type CommunityOwnership, type OwnershipChange } from '../contracts/ownership.ts';

export interface ClusterOwnershipOptions {
  store: LeaseStore;
  nodeId: string;
  /** The city's community ids, asked each round (an inventory import's new communities are taken up at the next). */
  communities: () => readonly string[];
  ttlMs?: number;
  roundMs?: number;
  now?: () => number;
  logger: Logger;
}

/**
 * The lease manager (ownership.ts) over the city's communities and the unplaced devices,
 * as the port the features ask: `owns` on every reading and tick, `onChange` to adopt a
 * community's zones or let them go. Not running until `start()`.
 */
export function createClusterOwnership(options: ClusterOwnershipOptions) {
  const now = options.now ?? Date.now;
  const log = options.logger.child({ module: 'ownership' });
  const gained = new Map<string, number>();
  const listeners = createListeners<[OwnershipChange]>((name, error) => log.error({ listener: name, err: error }, 'ownership change listener failed'));
  const manager = createOwnership({
    store: options.store,
    nodeId: options.nodeId,
    keys: () => [...options.communities(), UNPLACED],
    ttlMs: options.ttlMs,
    roundMs: options.roundMs,
    logger: options.logger,
    onChange: (_owned, gainedKeys, lostKeys) => {
      const at = now();
      for (const key of gainedKeys) gained.set(key, at);
      for (const key of lostKeys) gained.delete(key);
      listeners.emit({ gained: gainedKeys, lost: lostKeys });
    },
  });
  const ownership: CommunityOwnership = {
    owns: (communityId) => manager.owns(communityKey(communityId)),
    gainedAt: (communityId) => gained.get(communityKey(communityId)),
    token: (communityId) => manager.token(communityKey(communityId)),
    onChange: (name, listener) => listeners.add(name, listener),
  };
  return {
    ownership,
    owned: manager.owned,
    start: () => manager.start(),
    stop: () => manager.stop(),
  };
}
