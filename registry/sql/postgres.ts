import pg from 'pg';
import type { Sql, SqlTx, SqlValue } from './port.ts';

/** PostgreSQL's codes for a transaction that lost a race and is worth running again. */
const RETRYABLE = new Set(['40001', '40P01', '23505']);
const ATTEMPTS = 8;

/** `?` → `$1, $2, …`, outside string literals and quoted identifiers (the stores write `?`). */
export function numberPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else out += ch === '?' ? `$${++n}` : ch;
  }
  return out;
}

/**
 * BIGINT (epoch ms, ids, counts) as a number, not node-postgres' default string: every value
 * the stores keep is far below 2^53. NUMERIC (avg) likewise.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

type Queryable = Pick<pg.PoolClient, 'query'>;

function over(client: Queryable): Omit<SqlTx, 'lock'> {
  // Without parameters the text goes as it is (the simple protocol: a migration's several statements).
  const query = async (sql: string, params: readonly SqlValue[] = []) =>
    (params.length ? client.query(numberPlaceholders(sql), params as SqlValue[]) : client.query(sql));
  return {
    dialect: 'postgres',
    all: async <T>(sql: string, params?: readonly SqlValue[]) => (await query(sql, params)).rows as T[],
    one: async <T>(sql: string, params?: readonly SqlValue[]) => (await query(sql, params)).rows[0] as T | undefined,
    run: async (sql: string, params?: readonly SqlValue[]) => ({ changes: (await query(sql, params)).rowCount ?? 0 }),
  };
}

export interface PostgresSqlOptions {
  url: string;
  /** Connections in the pool. */
  max?: number;
  connectTimeoutMs?: number;
  onError?: (error: Error) => void;
}

/**
 * The SQL port over a node-postgres pool. Transactions are READ COMMITTED with advisory
 * locks where a read decides a write (SqlTx.lock); a transaction that still loses a race
 * (the one-active-alert index refusing a second insert, a deadlock) runs again from the
 * start, up to 8 times, so the loser sees the winner's committed row and folds into it.
 */
export function createPostgresSql(options: PostgresSqlOptions): Sql {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    // No statement waits without end: a node frozen or cut off mid-transaction must not hold an
    // alert key's advisory lock (and every other node's signals behind it) until TCP gives up.
    // A cancelled statement (57014) is a retryable unavailability for the signal queue.
    statement_timeout: 10_000,
    idle_in_transaction_session_timeout: 10_000,
    keepAlive: true,
    types,
  });
  // An idle client's error (the server restarted) must not crash the process; the next query fails instead.
  pool.on('error', (error) => options.onError?.(error));
  const root = over(pool);

  async function attempt<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const tx: SqlTx = {
        ...over(client),
        // hashtextextended: a 64-bit key from the text, so unrelated keys collide only by chance (and then just wait).
        lock: async (key: string) => { await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]); },
      };
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  return {
    ...root,
    async transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
      for (let i = 1; ; i++) {
        try {
          return await attempt(fn);
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (i >= ATTEMPTS || !code || !RETRYABLE.has(code)) throw error;
          await new Promise((r) => setTimeout(r, Math.random() * 5 * i));
        }
      }
    },
    close: () => pool.end(),
  };
}

/**
 * LISTEN on one channel over a connection of its own (a pool's connections come and go),
 * made again 1 s after it fails; `onNotify` is also called after each reconnect, since
 * notifications sent while it was away are lost (the listener's owner polls besides).
 * Resolves once listening, or after the first failure (the reconnects go on).
 */
export async function listenPostgres(options: { url: string; channel: string; onNotify: () => void; onError: (error: Error) => void }): Promise<() => Promise<void>> {
  if (!/^[a-z_][a-z0-9_]*$/.test(options.channel)) throw new Error(`not a channel name: ${options.channel}`);
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: 5_000, keepAlive: true });
    c.on('notification', () => options.onNotify());
    c.on('error', (error) => {
      options.onError(error);
      again(c);
    });
    c.on('end', () => again(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${options.channel}`);
      if (closed) { await c.end().catch(() => undefined); return; }
      client = c;
      options.onNotify();
    } catch (error) {
      options.onError(error as Error);
      again(c);
    }
  };
  const again = (c: pg.Client): void => {
    if (closed || retry || (client && client !== c)) return;
    client = undefined;
    c.end().catch(() => undefined);
    retry = setTimeout(() => { retry = undefined; void connect(); }, 1_000);
  };
  await connect();
  return async () => {
    closed = true;
    clearTimeout(retry);
    await client?.end().catch(() => undefined);
  };
}
