import { createPostgresSql } from '../registry/sql/postgres.ts';
import { migratePostgres } from '../registry/sql/pg-migrate.ts';
import { sqliteSqlOf } from '../registry/sql/sqlite.ts';
import type { Sql } from '../registry/sql/port.ts';
import type { Db } from '../registry/db.ts';
import type { AppContext } from './context.ts';
import { CodedError } from '../lib/errors.ts';

/** How long a node waits for its PostgreSQL before it refuses to start. */
const ANSWER_WITHIN_MS = 5_000;

/** The URL without its password, for messages and logs. */
export const redactUrl = (url: string): string => {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
};

/**
 * Where alerts, work orders, the irrigation state (zones' state, runs, decisions, overrides) and the
 * notifier's state (followed alerts, waiting items, silences, the outbox) live. GS_POSTGRES_URL set (the clustered mode's shared state):
 * that PostgreSQL, its schema brought up to date (registry/pg-migrations); a PostgreSQL that
 * does not answer within 5 s stops the start, as a missing Redis does, rather than let the
 * node keep alerts the others cannot see. Unset: the data directory's SQLite, as always.
 */
export async function startSharedState(ctx: AppContext, store: { db: Db }): Promise<{ sql: Sql; ready?: () => Promise<boolean>; stop?: () => Promise<void> }> {
  const url = ctx.config.postgresUrl;
  if (!url) {
    if (ctx.config.cluster === 'redis') {
      ctx.logger.warn('GS_POSTGRES_URL is not set: this clustered node keeps its alerts, work orders, irrigation state and notifications (outbox, silences, reminders) in its own SQLite (docs/cluster.md)');
    }
    return { sql: sqliteSqlOf(store.db) };
  }
  const log = ctx.logger.child({ module: 'postgres' });
  const sql = createPostgresSql({ url, connectTimeoutMs: ANSWER_WITHIN_MS, onError: (error) => log.error({ err: error }, 'idle PostgreSQL connection failed') });
  try {
    await sql.one('SELECT 1');
  } catch (error) {
    await sql.close().catch(() => undefined);
    throw new CodedError('postgres_unreachable', `GS_POSTGRES_URL ${redactUrl(url)} does not answer (${(error as Error).message}): start PostgreSQL, or unset GS_POSTGRES_URL to keep alerts in this node's SQLite`, { cause: error });
  }
  const applied = await migratePostgres(sql);
  log.info({ url: redactUrl(url), migrations: applied }, 'alerts, work orders, irrigation state and notifications in PostgreSQL');
  // /readyz: a PostgreSQL that does not answer within 1 s makes the node not ready (alerts cannot be raised).
  const ready = async (): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), 1_000); });
    try {
      return await Promise.race([sql.one('SELECT 1').then(() => true, () => false), late]);
    } finally {
      clearTimeout(timer);
    }
  };
  return { sql, ready, stop: () => sql.close() };
}
