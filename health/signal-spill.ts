import { AlertSignal } from '../contracts/alert.ts';
import type { Db } from '../registry/db.ts';
import type { Logger } from '../lib/logger.ts';

/** Where held signals outlive the process (health/signal-queue.ts): written while the store is away, removed once applied. */
export interface SignalSpill {
  /** Keep the signal; its row. */
  save(signal: AlertSignal): number;
  /** Applied, refused for good or dropped: no longer held. */
  remove(row: number): void;
  /** The signals a previous run held, in the order they were given. */
  load(): Array<{ row: number; signal: AlertSignal }>;
}

/**
 * Held alert signals in the node's own SQLite (migration 140), for a node whose alert store is
 * PostgreSQL: its outage must not lose the signals held in memory if the node restarts before
 * it ends. Synchronous (better-sqlite3): a detector's signal is on disk when `push` returns.
 */
export function createSqliteSignalSpill(db: Db, logger: Logger): SignalSpill {
  const insert = db.prepare('INSERT INTO held_alert_signals (signal, held_at) VALUES (?, ?)');
  const remove = db.prepare('DELETE FROM held_alert_signals WHERE seq = ?');
  const all = db.prepare('SELECT seq, signal FROM held_alert_signals ORDER BY seq');
  return {
    save: (signal) => Number(insert.run(JSON.stringify(signal), Date.now()).lastInsertRowid),
    remove: (row) => { remove.run(row); },
    load() {
      const held: Array<{ row: number; signal: AlertSignal }> = [];
      for (const r of all.all() as Array<{ seq: number; signal: string }>) {
        let parsed: ReturnType<typeof AlertSignal.safeParse> | undefined;
        try {
          parsed = AlertSignal.safeParse(JSON.parse(r.signal));
        } catch {
          parsed = undefined;
        }
        if (parsed?.success) held.push({ row: r.seq, signal: parsed.data });
        else {
          logger.error({ row: r.seq, issues: parsed?.error.issues.slice(0, 3) }, 'held alert signal unreadable: dropped');
          remove.run(r.seq);
        }
      }
      return held;
    },
  };
}
