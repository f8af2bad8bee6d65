import { describe, expect, it } from 'vitest';
import { createSignalQueue, type SignalDropReason } from '../../../health/signal-queue.ts';
import { isUnavailable } from '../../../registry/sql/unavailable.ts';
import { createLogger } from '../../../lib/logger.ts';
import { CodedError } from '../../../lib/errors.ts';
import type { AlertSignal } from '../../../contracts/alert.ts';
import { openDb } from '../../../registry/db.ts';
import { createSqliteSignalSpill } from '../../../health/signal-spill.ts';

const raise = (subject: string, kind: AlertSignal['kind'] = 'device_offline'): AlertSignal => ({
  action: 'raise', kind, subject, severity: 'warning', message: subject, at: 0,
});
const clear = (subject: string): AlertSignal => ({ action: 'clear', kind: 'device_offline', subject, at: 0 });
const label = (s: AlertSignal): string => `${s.action}:${s.subject}`;

/** A store that refuses every write while `down` (as a stopped PostgreSQL does), and records what it took. */
function fakeStore() {
  const store = { down: false, applied: [] as string[], attempts: 0 };
  const apply = async (s: AlertSignal): Promise<void> => {
    store.attempts++;
    if (store.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    store.applied.push(label(s));
  };
  return { store, apply };
}

describe('the alert signal queue', () => {
  it('holds signals while the store is away and applies them in order once it is back', async () => {
    const { store, apply } = fakeStore();
    const q = createSignalQueue({ apply, logger: createLogger('silent'), retryMs: 5, retryMaxMs: 20 });
    store.down = true;
    q.push([raise('s-1'), clear('s-1'), raise('s-2')]);
    // Retried: a few attempts (5 ms, then 10, 20) — waited for, not timed, so a loaded machine cannot fail it.
    for (let waited = 0; store.attempts <= 2 && waited < 2_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(store.attempts).toBeGreaterThan(2);
    expect(q.pending()).toBe(3);
    q.push([raise('s-3')]);
    store.down = false;
    await q.settled();
    expect(store.applied).toEqual(['raise:s-1', 'clear:s-1', 'raise:s-2', 'raise:s-3']);
    expect(q.pending()).toBe(0);
  });

  it('bounded: when full it drops the oldest repeat of a (kind, subject) first, then the oldest, and counts each drop', async () => {
    const { store, apply } = fakeStore();
    const dropped: SignalDropReason[] = [];
    const q = createSignalQueue({ apply, logger: createLogger('silent'), capacity: 4, retryMs: 5, metrics: { pending: () => undefined, dropped: (r) => dropped.push(r) } });
    store.down = true;
    // s-0 is in flight (the head) and never dropped.
    q.push([raise('s-0'), raise('s-1'), raise('s-2'), clear('s-1')]);
    q.push([raise('s-3')]); // full: raise:s-1 has a newer s-1 behind it
    expect(dropped).toEqual(['repeat']);
    q.push([raise('s-4')]); // full of distinct ones: the oldest after the head
    expect(dropped).toEqual(['repeat', 'oldest']);
    store.down = false;
    await q.settled();
    expect(store.applied).toEqual(['raise:s-0', 'clear:s-1', 'raise:s-3', 'raise:s-4']);
  });

  it('a signal the store refuses for good is counted and passed over, not retried for ever', async () => {
    const applied: string[] = [];
    const dropped: SignalDropReason[] = [];
    const q = createSignalQueue({
      apply: async (s) => {
        if (s.subject === 'bad') throw new CodedError('bad_request', 'no');
        applied.push(label(s));
      },
      logger: createLogger('silent'),
      metrics: { pending: () => undefined, dropped: (r) => dropped.push(r) },
    });
    q.push([raise('a'), raise('bad'), raise('b')]);
    await q.settled();
    expect(applied).toEqual(['raise:a', 'raise:b']);
    expect(dropped).toEqual(['refused']);
  });

  it.each([
    [new CodedError('conflict', 'x'), false],
    [new TypeError('x'), false],
    [Object.assign(new Error('duplicate'), { code: '23505' }), false],
    [Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }), false],
    [Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), true],
    [Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), true],
    [Object.assign(new Error('the database system is starting up'), { code: '57P03' }), true],
    [Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }), true],
    [new Error('Connection terminated unexpectedly'), true],
    [new Error('timeout exceeded when trying to connect'), true],
  ])('isUnavailable(%s) = %s', (error, expected) => {
    expect(isUnavailable(error)).toBe(expected);
  });

  it('stop ends the retrying while the store is away, without waiting for it', async () => {
    const { store, apply } = fakeStore();
    const q = createSignalQueue({ apply, logger: createLogger('silent'), retryMs: 60_000 });
    store.down = true;
    q.push([raise('s-1')]);
    await new Promise((r) => setTimeout(r, 10));
    await q.stop();
    expect(q.pending()).toBe(1);
  });

  it('with a spill: what is held while the store is away is on disk (drops included), and the next queue over it applies that first, in order', async () => {
    const db = openDb(':memory:');
    const spill = createSqliteSignalSpill(db, createLogger('silent'));
    const rows = () => (db.prepare('SELECT signal FROM held_alert_signals ORDER BY seq').all() as Array<{ signal: string }>).map((r) => label(JSON.parse(r.signal) as AlertSignal));
    const first = fakeStore();
    const q = createSignalQueue({ apply: first.apply, logger: createLogger('silent'), retryMs: 5, retryMaxMs: 20, capacity: 3, spill });
    q.push([raise('s-0')]);
    await q.settled();
    expect(rows()).toEqual([]); // the store answers: nothing written to disk
    first.store.down = true;
    q.push([raise('s-1'), clear('s-1'), raise('s-2')]);
    await new Promise((r) => setTimeout(r, 30));
    q.push([raise('s-1')]); // full: the oldest repeat of s-1 (not the head in flight) goes, from disk too
    expect(rows()).toEqual(['raise:s-1', 'raise:s-2', 'raise:s-1']);
    await q.stop();

    const second = fakeStore();
    const next = createSignalQueue({ apply: second.apply, logger: createLogger('silent'), retryMs: 5, spill });
    next.push([clear('s-2')]);
    await next.settled();
    expect(second.store.applied).toEqual(['raise:s-1', 'raise:s-2', 'raise:s-1', 'clear:s-2']);
    expect(rows()).toEqual([]);
    db.close();
  });
});
