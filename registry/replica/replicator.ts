import type { Logger } from '../../lib/logger.ts';
import type { Metrics } from '../../lib/metrics.ts';
import { createSerialQueue } from '../../lib/serial-queue.ts';
import type { Sql } from '../sql/port.ts';
import type { ApplyResult, LocalReplica } from './local.ts';
import { REPLICATED_TABLES, type AppliedChanges, type RemoteRow, type RowImage, type RowKey } from './tables.ts';
import { createShipper } from './shipper.ts';

export { REGISTRY_CHANNEL } from './shipper.ts';

/** Rows per read. */
const PAGE = 5_000;

const DANGLING_MESSAGE: Record<ApplyResult['dangling'][number]['outcome'], string> = {
  deleted: 'registry row removed: the row it points at was deleted on another node (its ON DELETE CASCADE, as on one node; shipped)',
  set_null: 'registry row\'s reference cleared: the row it pointed at was deleted on another node (its ON DELETE SET NULL, as on one node; shipped)',
  left: 'registry row points at a row deleted on another node; kept as it came, the same on every node (one node would have refused one of the two writes)',
};

export interface RegistryReplicatorOptions {
  local: LocalReplica;
  sql: Sql;
  /** This process (its rows are not applied back to it). */
  nodeId: string;
  /** Subscribe to the channel; returns the unsubscribe. Absent: polling alone. */
  listen?: (onNotify: () => void) => Promise<() => Promise<void>>;
  /** After rows were applied: the caches that hold registry rows re-read them. */
  onApplied: (changes: AppliedChanges) => Promise<void> | void;
  logger: Logger;
  /** gs_registry_replica_fk_violations_total: the references an apply found dangling. */
  metrics?: Pick<Metrics, 'registryFkViolations'>;
  /** How often pending changes are shipped and PostgreSQL asked for rows without a notification. */
  pollMs?: number;
}

/** The rows of registry_rows above `seq`, in seq order, a page at a time. */
async function fetchSince(sql: Sql, seq: number): Promise<RemoteRow[]> {
  const rows: RemoteRow[] = [];
  for (let from = seq; ;) {
    const page = await sql.all<RemoteRow>('SELECT tbl, pk, row, seq, origin FROM registry_rows WHERE seq > ? ORDER BY seq LIMIT ?', [from, PAGE]);
    rows.push(...page);
    if (page.length < PAGE) return rows;
    from = page[page.length - 1]!.seq;
  }
}

/**
 * Log what SQLite refused of an apply and what it found dangling (the first 10 of each), count
 * the latter, and a table whose check failed: nothing of it stops the replication.
 */
function reportApply({ refused, dangling, unchecked }: ApplyResult, log: Logger, metrics: RegistryReplicatorOptions['metrics']): void {
  for (const { key, error } of refused.slice(0, 10)) log.error({ table: key.tbl, key: key.pk, err: error }, 'registry row from PostgreSQL refused by SQLite; left as it was here');
  for (const d of dangling) metrics?.registryFkViolations.inc({ table: d.table, parent: d.parent, outcome: d.outcome });
  for (const { outcome, ...where } of dangling.slice(0, 10)) log.warn({ ...where, outcome }, DANGLING_MESSAGE[outcome]);
  if (dangling.length > 10) log.warn({ more: dangling.length - 10 }, 'more registry rows pointing at a row deleted on another node; counted in gs_registry_replica_fk_violations_total');
  for (const { table, error } of unchecked) {
    metrics?.registryFkViolations.inc({ table, parent: '*', outcome: 'unchecked' });
    log.error({ table, err: error }, 'registry foreign-key check after an apply failed on a table; the rows stay applied, its references unchecked until an apply touches it again');
  }
}

/**
 * The registry's replication through PostgreSQL (docs/cluster.md "The registry in
 * PostgreSQL"). Each node's SQLite stays the store its code reads synchronously; the
 * triggers of migration 130 record each changed key, `flush` ships those rows' current
 * images to registry_rows (new seq each, under one advisory lock, NOTIFY at commit), and
 * `pull` applies the rows above the node's last applied seq. A node's first sync receives
 * every row PostgreSQL has and ships the rows it has that PostgreSQL lacks: an empty node
 * joins, the first node bootstraps. Two nodes changing one row: the last shipped wins.
 */
export function createRegistryReplicator(options: RegistryReplicatorOptions) {
  const { local, sql, nodeId } = options;
  const log = options.logger.child({ module: 'registry-replica' });
  const pollMs = options.pollMs ?? 1_000;
  // A ship and an apply never overlap. An apply skips the keys with an unshipped change here,
  // judged when it applies; a ship that committed meanwhile has forgotten its keys, so the
  // older remote images the pull read before that commit would overwrite the newer change
  // here, while PostgreSQL and every other node keep it (and this node never reads it back).
  const exclusive = createSerialQueue();
  const flush = createShipper(local, sql, nodeId, log, exclusive);
  let pulling: Promise<void> | undefined;
  let pullAgain = false;
  let timer: NodeJS.Timeout | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let stopped = false;

  async function waitOutsideTransaction(): Promise<void> {
    // The SQLite port's transactions (other features) span awaits; the apply must not join one.
    while (local.inTransaction()) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Read and apply, under `exclusive`: what the apply changed, and what SQLite refused. */
  async function fetchAndApply(): Promise<ApplyResult | undefined> {
    const last = local.lastSeq();
    const rows = await fetchSince(sql, last ?? 0);
    const seqTo = rows.length ? rows[rows.length - 1]!.seq : (last ?? 0);
    if (rows.length === 0 && last !== undefined) return undefined;
    await waitOutsideTransaction();
    // The first sync takes this node's earlier rows too (another process's id); later, its own are skipped.
    return local.apply(last === undefined ? rows : rows.filter((r) => r.origin !== nodeId), seqTo);
  }

  async function pullOnce(): Promise<void> {
    const applied = await exclusive(fetchAndApply);
    if (!applied) return;
    const { changes } = applied;
    reportApply(applied, log, options.metrics);
    if (changes.size > 0) {
      log.debug({ tables: Object.fromEntries([...changes].map(([t, k]) => [t, k.length])), seq: local.lastSeq() }, 'registry rows applied');
      // Applied and recorded already: a failing listener is logged, never a reason to apply again.
      await Promise.resolve().then(() => options.onApplied(changes)).catch((error: unknown) => log.error({ err: error }, 'refreshing after registry rows were applied failed'));
    }
  }

  /** Apply what PostgreSQL has above this node's last seq; one pull at a time, another after it when asked meanwhile. */
  function pull(): Promise<void> {
    if (pulling) {
      pullAgain = true;
      return pulling;
    }
    pulling = (async () => {
      try {
        do {
          pullAgain = false;
          await pullOnce();
        } while (pullAgain && !stopped);
      } finally {
        pulling = undefined;
      }
    })();
    return pulling;
  }

  /** First sync: PostgreSQL's rows in, then this node's rows PostgreSQL lacks out (all of them on the first node). */
  async function firstSync(): Promise<void> {
    const known = new Set((await sql.all<RowKey>('SELECT tbl, pk FROM registry_rows')).map((k) => `${k.tbl}\u0000${k.pk}`));
    const localOnly = local.allKeys().filter((k) => !known.has(`${k.tbl}\u0000${k.pk}`));
    await pull();
    local.enqueue(localOnly);
    await flush();
    log.info({ received: known.size, shipped: localOnly.length }, known.size ? 'registry received from PostgreSQL' : 'registry bootstrapped into PostgreSQL');
  }

  async function tick(): Promise<void> {
    try {
      await flush();
      await pull();
    } catch (error) {
      log.warn({ err: error }, 'registry replication round failed; retried at the next');
    }
  }

  return {
    /** Capture on, the first sync (or catching up), then the notifications and the rounds. */
    async start(): Promise<void> {
      local.capture(true);
      if (local.lastSeq() === undefined) await firstSync();
      else {
        await flush();
        await pull();
      }
      if (options.listen) {
        unlisten = await options.listen(() => { if (!stopped) pull().catch((error: unknown) => log.warn({ err: error }, 'registry pull failed; retried at the next round')); });
      }
      const round = (): void => {
        timer = setTimeout(() => { void tick().finally(() => { if (!stopped) round(); }); }, pollMs);
      };
      round();
    },
    flush,
    pull,
    /** The rows a key has in PostgreSQL now (tests, diagnostics). */
    remote: (tbl: string, pk: string): Promise<{ row: RowImage | null; seq: number } | undefined> => sql.one('SELECT row, seq FROM registry_rows WHERE tbl = ? AND pk = ?', [tbl, pk]),
    tables: Object.keys(REPLICATED_TABLES),
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await unlisten?.();
      await pulling?.catch(() => undefined);
      // What was changed before the stop goes out if PostgreSQL answers; else at the next start (the outbound is in the file).
      await flush().catch((error: unknown) => log.warn({ err: error }, 'registry changes not shipped at stop; shipped at the next start'));
    },
  };
}

export type RegistryReplicator = ReturnType<typeof createRegistryReplicator>;
