import type { Sql, SqlTx } from '../registry/sql/port.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { CodedError } from '../lib/errors.ts';
import type { AlertKind, AlertSignal, AlertTransition, Severity } from '../contracts/alert.ts';
import { createAlertStore, type AlertFilter, type AlertRecord } from './alert-store.ts';
import { createWorkOrderStore } from './work-orders/store.ts';
import { DEFAULT_SLA_MS } from './work-orders/sla.ts';
import { isSticky, requiresNote } from './kinds.ts';
import { DEFAULT_REOPEN_WITHIN_MS } from './reopen.ts';
import { createAlertTransitions } from './transitions.ts';

export type TransitionListener = (t: AlertTransition) => void;

export interface AlertServiceDeps {
  /** The shared-state port: SQLite (the default, `sqliteSqlOf(db)`) or PostgreSQL (clustered, GS_POSTGRES_URL). */
  sql: Sql;
  clock: Clock;
  logger: Logger;
  sla?: Record<Severity, number>;
  /**
   * Per kind: a condition back within this long after an automatic clear reopens the same
   * alert (reopen.ts); 0 never reopens. Kinds left out keep DEFAULT_REOPEN_WITHIN_MS.
   */
  reopenWithinMs?: Partial<Record<AlertKind, number>>;
}

export type AlertService = ReturnType<typeof createAlertService>;

/** Each transition to every listener, each in its own guard (one that throws is logged, the rest still hear it). */
function emitTo(listeners: ReadonlySet<TransitionListener>, log: Logger, out: readonly AlertTransition[]): void {
  for (const t of out) {
    for (const listener of listeners) {
      try {
        listener(t);
      } catch (error) {
        log.error({ err: error, alert: t.alert.id, to: t.to }, 'transition listener failed');
      }
    }
  }
}

/** The lock every write to one alert takes: its (kind, subject), which never changes (a kind has no `|`). */
const keyOf = (kind: string, subject: string): string => `gs:alert:${kind}|${subject}`;

/**
 * The alert lifecycle over the SQL port (SQLite by default, PostgreSQL in clustered mode): one
 * active alert per (kind, subject), severity raised in place, firing → acknowledged → resolved,
 * every transition stored and then emitted to the listeners (InfluxDB annotations, the
 * notifier). A fault opens its work order in the same transaction as the alert, so a crash
 * never leaves one without the other.
 *
 * Every write to an alert runs in one transaction holding its (kind, subject) lock: on SQLite
 * the write transaction (IMMEDIATE: a second connection waits instead of reading a stale "no
 * active alert"), on PostgreSQL an advisory lock, so two nodes raising the same signal at once
 * give one alert (and the partial unique index refuses a second one from any writer).
 */
export function createAlertService(deps: AlertServiceDeps) {
  const { sql, clock } = deps;
  const log = deps.logger.child({ module: 'alerts' });
  const sla = deps.sla ?? DEFAULT_SLA_MS;
  const reopenWithinMs = (kind: AlertKind): number => deps.reopenWithinMs?.[kind] ?? DEFAULT_REOPEN_WITHIN_MS[kind];
  const store = createAlertStore(sql);
  const listeners = new Set<TransitionListener>();

  /** The stores and the lifecycle's writes bound to one transaction. */
  const within = (tx: SqlTx) => {
    const txStore = createAlertStore(tx);
    const orders = createWorkOrderStore(tx, () => clock.now());
    return { tx, store: txStore, orders, ...createAlertTransitions({ store: txStore, orders, clock, sla, reopenWithinMs }) };
  };
  type Within = ReturnType<typeof within>;

  /** Lock an alert by id (its key), then read it as it is now; undefined: no such alert. */
  const lockAlert = async (w: Within, id: number): Promise<AlertRecord | undefined> => {
    const a = await w.store.get(id);
    if (!a) return undefined;
    await w.tx.lock(keyOf(a.kind, a.subject));
    return w.store.get(id);
  };

  // `out` starts empty on every attempt: a PostgreSQL transaction that lost a race runs again.
  const write = async <T>(fn: (w: Within, out: AlertTransition[]) => Promise<T>): Promise<T> => {
    let out: AlertTransition[] = [];
    const result = await sql.transaction(async (tx) => {
      out = [];
      return fn(within(tx), out);
    });
    emit(out);
    return result;
  };

  const emit = (out: AlertTransition[]): void => emitTo(listeners, log, out);

  const mustLock = async (w: Within, id: number): Promise<AlertRecord> => {
    const a = await lockAlert(w, id);
    if (!a) throw new CodedError('not_found', `no alert ${id}`);
    return a;
  };

  return {
    /** Apply a detector's signal; returns the alert it touched (undefined: a clear with nothing active). */
    apply: (signal: AlertSignal): Promise<AlertRecord | undefined> => write(async (w, out) => {
      await w.tx.lock(keyOf(signal.kind, signal.subject));
      return signal.action === 'raise' ? w.raise(signal, out) : w.clear(signal, out);
    }),

    acknowledge: (id: number, input: { by: string; note?: string | undefined }): Promise<AlertRecord> => write(async (w, out) => {
      const a = await mustLock(w, id);
      if (a.state !== 'firing') throw new CodedError('conflict', `alert ${id} is ${a.state}, only a firing alert can be acknowledged`);
      const at = clock.now();
      await w.store.update(id, { state: 'acknowledged', acknowledged_at: at, acknowledged_by: input.by, last_changed_at: at });
      return w.transition(out, id, 'firing', 'acknowledged', at, input.by, input.note);
    }),

    /** A person resolves an alert. Damage kinds need a note, and stay until their work order is closed. */
    resolve: (id: number, input: { by: string; note?: string | undefined }): Promise<AlertRecord> => write(async (w, out) => {
      const a = await mustLock(w, id);
      if (a.state === 'resolved') throw new CodedError('conflict', `alert ${id} is already resolved`);
      const note = input.note?.trim() || undefined;
      if (requiresNote(a.kind) && !note) throw new CodedError('bad_request', `a ${a.kind} alert is resolved only with a note saying what was found and done`);
      const wo = await w.orders.forAlert(id);
      if (isSticky(a) && wo && wo.state !== 'closed' && wo.state !== 'cancelled') {
        throw new CodedError('conflict', `alert ${id} marks facility damage: it is resolved by closing work order ${wo.id} (now ${wo.state})`);
      }
      return w.resolveWithin(out, a, input.by, note, clock.now());
    }),

    comment: async (id: number, input: { by: string; text: string }) => {
      if (!(await store.get(id))) throw new CodedError('not_found', `no alert ${id}`);
      return store.addComment(id, clock.now(), input.by, input.text);
    },

    get: (id: number) => store.get(id),
    active: (kind: string, subject: string) => store.active(kind, subject),
    list: (filter?: AlertFilter, districts?: readonly string[]) => store.list(filter, districts),
    allActive: () => store.allActive(),
    activeIn: (communities: readonly string[]) => store.activeIn(communities),
    /** Where these alerts lie, read where the alerts live (the notification list's district filter). */
    districtsOf: (ids: readonly number[]) => store.districtsOf(ids),
    transitions: (id: number) => store.transitions(id),
    comments: (id: number) => store.comments(id),

    /** The port the notifier and the InfluxDB annotation writer consume. Returns an unsubscribe. */
    onTransition(listener: TransitionListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** For the work-order service: the same port, and resolve inside its transaction, then emit after commit. */
    ledger: {
      sql,
      /** Take the lock of the alert `id` (every write to it and to its work order holds it). */
      lock: async (tx: SqlTx, id: number): Promise<void> => { await lockAlert(within(tx), id); },
      acknowledgeWithin: async (tx: SqlTx, out: AlertTransition[], id: number, by: string, note: string, at: number): Promise<void> => {
        const w = within(tx);
        const a = await lockAlert(w, id);
        if (a?.state !== 'firing') return;
        await w.store.update(id, { state: 'acknowledged', acknowledged_at: at, acknowledged_by: by, last_changed_at: at });
        await w.transition(out, id, 'firing', 'acknowledged', at, by, note);
      },
      resolveWithin: async (tx: SqlTx, out: AlertTransition[], id: number, by: string, note: string | undefined, at: number): Promise<AlertRecord | undefined> => {
        const w = within(tx);
        const a = await lockAlert(w, id);
        return a && a.state !== 'resolved' ? w.resolveWithin(out, a, by, note, at) : a;
      },
      emit,
    },
  };
}
