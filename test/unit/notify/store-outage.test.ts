import { describe, expect, it } from 'vitest';
import { openDb } from '../../../registry/db.ts';
import { sqliteSqlOf } from '../../../registry/sql/sqlite.ts';
import type { Sql } from '../../../registry/sql/port.ts';
import { alertOf, createHarness, S } from './harness.ts';

/** The port over a real SQLite whose transactions are refused as by an absent PostgreSQL while `down` is set (a fake for the port, not a mock of a module). */
function flakyPort(sql: Sql) {
  const state = { down: false, refused: 0 };
  const port: Sql = {
    ...sql,
    transaction: (fn) => {
      if (!state.down) return sql.transaction(fn);
      state.refused++;
      return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    },
  };
  return { port, state };
}

describe('the notifier while its store is away', () => {
  it('holds a transition the store refuses, records it once the store is back, and announces it', async () => {
    const db = openDb(':memory:');
    const flaky = flakyPort(sqliteSqlOf(db));
    const h = createHarness({}, { db, sql: flaky.port });
    flaky.state.down = true;
    h.fire(alertOf(1));
    await new Promise((r) => setTimeout(r, 700)); // the first try and the retry after 0.5 s
    expect(flaky.state.refused).toBeGreaterThanOrEqual(2);
    flaky.state.down = false;
    await h.service.notifier.settled(); // the next retry (after 1 s) records it
    await h.advance(30 * S);
    expect(h.sentTo('wecom').map((s) => s.delivery.alerts.map((a) => [a.alert.id, a.reason]))).toEqual([[[1, 'firing']]]);
    await h.service.stop();
  });

  it('does not retry what is no outage (a bug, a refusal): the next transition is not held behind it', async () => {
    const db = openDb(':memory:');
    const sql = sqliteSqlOf(db);
    let calls = 0;
    const port: Sql = { ...sql, transaction: (fn) => (++calls === 1 ? Promise.reject(new TypeError('a bug')) : sql.transaction(fn)) };
    const h = createHarness({}, { db, sql: port });
    h.fire(alertOf(1));
    h.fire(alertOf(2));
    await h.service.notifier.settled();
    expect(calls).toBe(2);
    await h.advance(30 * S);
    expect(h.sentTo('wecom').map((s) => s.delivery.alerts.map((a) => a.alert.id))).toEqual([[2]]);
  });
});
