/**
 * Leases in a shared store: who owns a community (issue 17 item 2). A lease is held by one
 * owner until it expires or is released; a dead node's leases expire, and a survivor
 * acquires them. Redis first (cluster/redis-lease-store.ts); PostgreSQL later behind the
 * same interface (docs/cluster.md).
 */
export interface LeaseStore {
  /**
   * Take `key` for `owner` for `ttlMs` if free or expired. When `owner` holds it after the
   * call: the lease's fencing token, a number that grows with every acquisition of `key` by
   * anyone (so a later holder's is always greater); undefined when another holds it. The
   * owner's writes carry it and the shared store refuses an older one (irrigation/fence.ts).
   */
  acquire(key: string, owner: string, ttlMs: number): Promise<number | undefined>;
  /** Extend a lease `owner` still holds; false when it no longer does (expired, taken). */
  renew(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Give it up, only if `owner` still holds it. */
  release(key: string, owner: string): Promise<void>;
  /** Who holds each key now (undefined: nobody). */
  holders(keys: readonly string[]): Promise<Map<string, string | undefined>>;
  /** Say that `owner` is alive for `ttlMs`; the live owners share the keys. */
  heartbeat(owner: string, ttlMs: number): Promise<void>;
  /** The owners whose heartbeat has not expired. */
  liveOwners(): Promise<string[]>;
}
