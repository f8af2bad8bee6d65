import type { Logger } from '../../lib/logger.ts';
import type { SerialQueue } from '../../lib/serial-queue.ts';
import type { Sql, SqlValue } from '../sql/port.ts';
import type { LocalReplica } from './local.ts';

/** The NOTIFY channel a shipper signals after each commit. */
export const REGISTRY_CHANNEL = 'gs_registry';
/** The advisory lock every shipper holds: seq values become visible in their order. */
const SHIP_LOCK = 'gs:registry_rows';
/** Rows per INSERT statement. */
const CHUNK = 500;

/**
 * The shipping half of the replication: the keys the triggers recorded, their rows' current
 * images, written to registry_rows in one transaction under the advisory lock (each a new
 * seq from the sequence, taken after the lock, so a reader that sees seq N has seen every
 * seq below it), NOTIFY at commit; then those outbound rows are forgotten. Returns `flush`.
 * A ship runs under `exclusive`, never beside an apply (replicator.ts says why).
 */
export function createShipper(local: LocalReplica, sql: Sql, nodeId: string, log: Logger, exclusive: SerialQueue): () => Promise<void> {
  let shipping: Promise<void> | undefined;
  let nextShip: Promise<void> | undefined;

  async function shipOnce(): Promise<void> {
    const { upTo, keys } = local.pending();
    if (keys.length === 0) return;
    // Read with the keys, in the same synchronous turn: the images are one consistent state.
    const rows = keys.map((key) => ({ key, row: local.image(key) }));
    await sql.transaction(async (tx) => {
      await tx.lock(SHIP_LOCK);
      for (let i = 0; i < rows.length; i += CHUNK) {
        const chunk = rows.slice(i, i + CHUNK);
        const params: SqlValue[] = [];
        for (const { key, row } of chunk) params.push(key.tbl, key.pk, row === null ? null : JSON.stringify(row), nodeId);
        await tx.run(
          `INSERT INTO registry_rows (tbl, pk, row, seq, origin) VALUES ${chunk.map(() => "(?, ?, CAST(? AS JSON), nextval('registry_rows_seq'), ?)").join(', ')}
           ON CONFLICT (tbl, pk) DO UPDATE SET row = EXCLUDED.row, seq = EXCLUDED.seq, origin = EXCLUDED.origin, shipped_at = now()`,
          params,
        );
      }
      await tx.run(`SELECT pg_notify('${REGISTRY_CHANNEL}', '')`);
    });
    local.shipped(upTo);
    log.debug({ rows: rows.length }, 'registry rows shipped');
  }

  /**
   * Ship every change made so far; resolves once they are committed in PostgreSQL. Calls
   * while a ship runs share the one queued after it (which reads the outbound afresh).
   */
  function flush(): Promise<void> {
    if (nextShip) return nextShip;
    const after = shipping ?? Promise.resolve();
    const next: Promise<void> = after.catch(() => undefined).then(() => {
      nextShip = undefined;
      shipping = next;
      return exclusive(shipOnce);
    }).finally(() => { if (shipping === next) shipping = undefined; });
    nextShip = next;
    return next;
  }

  return flush;
}
