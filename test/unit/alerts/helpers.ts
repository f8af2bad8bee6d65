import { afterAll, beforeAll } from 'vitest';
import { openDb, type Db } from '../../../registry/db.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createAlertService, type AlertServiceDeps } from '../../../alerts/alert-service.ts';
import { createWorkOrderService } from '../../../alerts/work-orders/service.ts';
import type { AlertSignal, AlertTransition } from '../../../contracts/alert.ts';
import type { Sql, SqlEngine } from '../../../registry/sql/port.ts';
import { sqliteSqlOf } from '../../../registry/sql/sqlite.ts';
import { createPostgresSql } from '../../../registry/sql/postgres.ts';
import { migratePostgres } from '../../../registry/sql/pg-migrate.ts';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres.ts';

export const T0 = Date.UTC(2026, 9, 1, 2); // 2026-10-01 10:00 in UTC+8
export const MIN = 60_000;
export const HOUR = 60 * MIN;

/** Both engines the alert service runs on: the SQLite default and the clustered mode's PostgreSQL. */
export const ENGINES: readonly SqlEngine[] = ['sqlite', 'postgres'];

/** An alert service and a ledger over one SQL port (its clock starts at T0). */
export function ledgerOver(sql: Sql, options: Omit<AlertServiceDeps, 'sql' | 'clock' | 'logger'> = {}, clock = createManualClock(T0)) {
  const alerts = createAlertService({ sql, clock, logger: createLogger('silent'), ...options });
  const workOrders = createWorkOrderService({ clock, alerts });
  const transitions: AlertTransition[] = [];
  alerts.onTransition((t) => transitions.push(t));
  return { sql, clock, alerts, workOrders, transitions };
}

export interface Ledgers {
  /** A new ledger on an empty database of the engine (SQLite: in memory; PostgreSQL: a new database). */
  (options?: Omit<AlertServiceDeps, 'sql' | 'clock' | 'logger'>): Promise<ReturnType<typeof ledgerOver> & { db?: Db }>;
  /** A new empty database's port (PostgreSQL: the URL too, for a second node's pool). */
  database(): Promise<{ sql: Sql; url?: string }>;
  /** Another pool on the same PostgreSQL database (a second node). */
  pool(url: string): Sql;
}

/**
 * Ledgers over real databases of one engine, for a `describe.each(ENGINES)` block: for
 * PostgreSQL it starts a throwaway server for the block (test/helpers/postgres.ts) and gives
 * every ledger its own database; everything is closed after the block.
 */
export function useLedgers(engine: SqlEngine): Ledgers {
  let server: TestPostgres | undefined;
  const open: Sql[] = [];
  const dbs: Db[] = [];
  if (engine === 'postgres') {
    beforeAll(async () => { server = await startTestPostgres(); });
  }
  afterAll(async () => {
    for (const sql of open.splice(0)) await sql.close();
    for (const db of dbs.splice(0)) db.close();
    await server?.stop();
  });
  const pool = (url: string): Sql => {
    const sql = createPostgresSql({ url });
    open.push(sql);
    return sql;
  };
  async function database(): Promise<{ sql: Sql; url?: string }> {
    if (engine === 'sqlite') {
      const db = openDb(':memory:');
      dbs.push(db);
      return { sql: sqliteSqlOf(db) };
    }
    const url = await server!.createDatabase();
    const sql = pool(url);
    await migratePostgres(sql);
    return { sql, url };
  }
  const ledgers = async (options: Omit<AlertServiceDeps, 'sql' | 'clock' | 'logger'> = {}) => {
    const { sql } = await database();
    return { ...ledgerOver(sql, options), db: engine === 'sqlite' ? dbs.at(-1) : undefined };
  };
  return Object.assign(ledgers, { database, pool });
}

/** An alert service and a ledger over a real SQLite database (in memory unless a path is given). */
export function createLedger(path = ':memory:', db: Db = openDb(path)) {
  return { db, ...ledgerOver(sqliteSqlOf(db)) };
}

export const raise = (kind: AlertSignal['kind'], subject: string, severity: 'info' | 'warning' | 'critical' = 'warning', message = `${kind} on ${subject}`): Extract<AlertSignal, { action: 'raise' }> =>
  ({ action: 'raise', kind, subject, severity, message, communityId: 'c-1', districtId: 'd-1', at: T0 });
export const clear = (kind: AlertSignal['kind'], subject: string): AlertSignal => ({ action: 'clear', kind, subject, at: T0, reason: 'back to normal' });
