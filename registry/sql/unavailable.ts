import { CodedError } from '../../lib/errors.ts';

/** Node's codes for a connection that failed or broke. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** node-postgres' own words for a connection it lost or could not make (no code on these). */
const PG_CONNECTION_MESSAGE = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i;

/**
 * The store away for a while, worth waiting for: a refused, broken or timed-out connection;
 * PostgreSQL's connection exception (class 08), operator intervention (57: shutting down,
 * starting up), insufficient resources (53) or a transaction that kept losing its race (40);
 * SQLite busy or locked. Anything else — the alert service's own refusal (a CodedError), a
 * constraint or type error, a bug — would fail again: the signal is logged, counted and
 * passed over, so one bad signal never blocks the queue behind it (health/signal-queue.ts;
 * the notifier retries its bookkeeping the same way, notify/notifier.ts).
 */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof CodedError || !(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || /^(08|57|53|40)[0-9A-Z]{3}$/.test(code) || /^SQLITE_(BUSY|LOCKED)/.test(code)) return true;
  }
  return PG_CONNECTION_MESSAGE.test(error.message);
}

