import type { Db } from '../registry/db.ts';
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
  db: Db;
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

/**
 * The alert lifecycle over SQLite: one active alert per (kind, subject), severity raised in
 * place, firing → acknowledged → resolved, every transition stored and then emitted to the
 * listeners (InfluxDB annotations, the notifier). A fault opens its work order in the same
 * transaction as the alert, so a crash never leaves one without the other.
 * Write transactions are IMMEDIATE: a second connection to the same file waits instead of
 * reading a stale "no active alert" and inserting a duplicate (the partial unique index
 * would refuse it anyway).
 */
export function createAlertService(deps: AlertServiceDeps) {
  const { db, clock } = deps;
  const log = deps.logger.child({ module: 'alerts' });
  const sla = deps.sla ?? DEFAULT_SLA_MS;
  const reopenWithinMs = (kind: AlertKind): number => deps.reopenWithinMs?.[kind] ?? DEFAULT_REOPEN_WITHIN_MS[kind];
  const store = createAlertStore(db);
  const orders = createWorkOrderStore(db, () => clock.now());
  const listeners = new Set<TransitionListener>();

  const { transition, resolveWithin, raise, clear } = createAlertTransitions({ store, orders, clock, sla, reopenWithinMs });

  const write = <T>(fn: (out: AlertTransition[]) => T): T => {
    const out: AlertTransition[] = [];
    const result = db.transaction(() => fn(out)).immediate();
    emit(out);
    return result;
  };

  function emit(out: AlertTransition[]): void {
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

  const mustGet = (id: number): AlertRecord => {
    const a = store.get(id);
    if (!a) throw new CodedError('not_found', `no alert ${id}`);
    return a;
  };

  return {
    /** Apply a detector's signal; returns the alert it touched (undefined: a clear with nothing active). */
    apply: (signal: AlertSignal): AlertRecord | undefined => write((out) => (signal.action === 'raise' ? raise(signal, out) : clear(signal, out))),

    acknowledge: (id: number, input: { by: string; note?: string | undefined }): AlertRecord => write((out) => {
      const a = mustGet(id);
      if (a.state !== 'firing') throw new CodedError('conflict', `alert ${id} is ${a.state}, only a firing alert can be acknowledged`);
      const at = clock.now();
      store.update(id, { state: 'acknowledged', acknowledged_at: at, acknowledged_by: input.by, last_changed_at: at });
      return transition(out, id, 'firing', 'acknowledged', at, input.by, input.note);
    }),

    /** A person resolves an alert. Damage kinds need a note, and stay until their work order is closed. */
    resolve: (id: number, input: { by: string; note?: string | undefined }): AlertRecord => write((out) => {
      const a = mustGet(id);
      if (a.state === 'resolved') throw new CodedError('conflict', `alert ${id} is already resolved`);
      const note = input.note?.trim() || undefined;
      if (requiresNote(a.kind) && !note) throw new CodedError('bad_request', `a ${a.kind} alert is resolved only with a note saying what was found and done`);
      const wo = orders.forAlert(id);
      if (isSticky(a) && wo && wo.state !== 'closed' && wo.state !== 'cancelled') {
        throw new CodedError('conflict', `alert ${id} marks facility damage: it is resolved by closing work order ${wo.id} (now ${wo.state})`);
      }
      return resolveWithin(out, a, input.by, note, clock.now());
    }),

    comment: (id: number, input: { by: string; text: string }) => {
      mustGet(id);
      return store.addComment(id, clock.now(), input.by, input.text);
    },

    get: (id: number) => store.get(id),
    active: (kind: string, subject: string) => store.active(kind, subject),
    list: (filter?: AlertFilter, districts?: readonly string[]) => store.list(filter, districts),
    allActive: () => store.allActive(),
    transitions: (id: number) => store.transitions(id),
    comments: (id: number) => store.comments(id),

    /** The port the notifier and the InfluxDB annotation writer consume. Returns an unsubscribe. */
    onTransition(listener: TransitionListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** For the work-order service: resolve inside its own transaction, then emit after commit. */
    ledger: {
      acknowledgeWithin: (out: AlertTransition[], id: number, by: string, note: string, at: number): void => {
        const a = store.get(id);
        if (a?.state !== 'firing') return;
        store.update(id, { state: 'acknowledged', acknowledged_at: at, acknowledged_by: by, last_changed_at: at });
        transition(out, id, 'firing', 'acknowledged', at, by, note);
      },
      resolveWithin: (out: AlertTransition[], id: number, by: string, note: string | undefined, at: number): AlertRecord | undefined => {
        const a = store.get(id);
        return a && a.state !== 'resolved' ? resolveWithin(out, a, by, note, at) : a;
      },
      emit,
    },
  };
}
