import type { Db } from '../registry/db.ts';
import type { RollupResolution } from '../contracts/influx-schema.ts';

/** The rollup cursor in SQLite (migration 100): how far each resolution is written. */
export function createRollupCursor(db: Db) {
  const read = db.prepare<[string], { done_until_ms: number }>('SELECT done_until_ms FROM rollup_cursor WHERE resolution = ?');
  const write = db.prepare('INSERT INTO rollup_cursor (resolution, done_until_ms) VALUES (?, ?) ON CONFLICT (resolution) DO UPDATE SET done_until_ms = excluded.done_until_ms');
  return {
    get: (resolution: RollupResolution): number | undefined => read.get(resolution)?.done_until_ms,
    set: (resolution: RollupResolution, doneUntilMs: number): void => { write.run(resolution, doneUntilMs); },
  };
}

export type RollupCursor = ReturnType<typeof createRollupCursor>;
