import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../../registry/db.ts';
import { createDeadLetterStore } from '../../../ingest/dead-letters.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

describe('the dead-letter store', () => {
  it('survives a database it cannot write for a while (another process holds the write lock) and stores the rows afterwards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gs-dl-'));
    dirs.push(dir);
    const path = join(dir, 'greenspace.db');
    const db = openDb(path);
    db.pragma('busy_timeout = 0');
    const cli = new Database(path); // e.g. an inventory import from the CLI
    cli.exec('BEGIN IMMEDIATE');
    const errors: unknown[] = [];
    const store = createDeadLetterStore(db, { maxRows: 10, flushMs: 5, onError: (error) => errors.push(error) });
    store.add({ at: 1, reason: 'schema', detail: 'moisture: expected a number', deviceId: 'soil-1', topic: 'gs/soil-1/up', payload: '{}' });
    await until(() => errors.length > 0);
    cli.exec('COMMIT');
    cli.close();
    await until(() => store.query({ limit: 10 }).length === 1);
    store.close();
    db.close();
  });
});
