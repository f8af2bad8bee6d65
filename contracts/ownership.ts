/**
 * Community ownership as the features see it (issue 17 item 2): the port the reading
 * relay, the irrigation engine and the health monitor ask, without knowing leases or
 * Redis. Implemented over leases in cluster/community-ownership.ts; one process owns all.
 */

/**
 * The ownership key of devices placed in no community (registered through the API without
 * a place): their device health still needs exactly one owner. Entity ids start with a
 * letter or digit (contracts/device.ts), so no community can be called this.
 */
export const UNPLACED = '_unplaced';

/** The ownership key of a device's or zone's community. */
export const communityKey = (communityId: string | undefined): string => communityId ?? UNPLACED;

export interface OwnershipChange {
  gained: string[];
  lost: string[];
}

/**
 * Which communities this node runs the rules of (issue 17 item 2). One process owns every
 * community from the start (`ownsEverything`); a clustered node owns its leased share.
 */
export interface CommunityOwnership {
  owns(communityId: string | undefined): boolean;
  /** When this node last gained the community; undefined when it owned it from the start (one process). */
  gainedAt(communityId: string | undefined): number | undefined;
  /**
   * The fencing token of this node's latest hold of the community (clustered: from the lease
   * store, greater for every later holder), held now or lost since; undefined in one process
   * or if never held. The owner's writes to the shared store carry it (irrigation/fence.ts).
   */
  token(communityId: string | undefined): number | undefined;
  /** Communities gained or lost (a round of the lease manager); the listener runs in its own guard. */
  onChange(name: string, listener: (change: OwnershipChange) => void): () => void;
}

/** The one-process default: every community is this process's, for ever. */
export const ownsEverything: CommunityOwnership = {
  owns: () => true,
  gainedAt: () => undefined,
  token: () => undefined,
  onChange: () => () => undefined,
};

