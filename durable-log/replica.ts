import type { Cursor } from './segments.ts';

/**
 * A copy of the durable log kept off this host (clustered mode: cluster/redis-ack-replica.ts),
 * so what this node acknowledged survives the loss of its disk. The writer hands it each
 * write's bytes as the write begins; the groups of that write settle (their PUBACKs go) once
 * both the fdatasync and the copy are done. One process has none: nothing waits.
 */
export interface Replica {
  /**
   * Copy one write: `bytes` are whole lines, ending at `end` in the log. Only for the length
   * of this call: the buffer is used again for later groups, so a copy keeps its own. The
   * promise must settle within a bounded time whatever the replica's store does (the replica
   * falls back to local durability and counts it): PUBACKs wait for it. A rejection is
   * treated as settled.
   */
  copy(bytes: Buffer, end: Cursor, lines: number): Promise<void>;
  /** Everything before `cursor` is in InfluxDB (or dropped by the disk budget, and counted): its copies may go. */
  shipped(cursor: Cursor): void;
}
