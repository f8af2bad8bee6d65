import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../registry/db.ts';
import { createDeviceRegistry } from '../../../registry/devices.ts';
import { createInventoryService } from '../../../inventory/service.ts';
import { parseInventoryText } from '../../../inventory/parse.ts';
import { testHasher } from '../../helpers/hasher.ts';

const CITY = readFileSync(new URL('../../../inventory/examples/city.yaml', import.meta.url), 'utf8');

describe('an import hashes new devices\' secrets a few at a time', () => {
  let dir: string;
  let db: Db;
  afterEach(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh registry, the example city, and an import service hashing with `hashSecret`, `concurrency` at a time. */
  function setUp(hashSecret: (secret: string) => Promise<string>, concurrency: number) {
    dir = mkdtempSync(join(tmpdir(), 'gs-inv-hash-'));
    db = openDb(join(dir, 'greenspace.db'));
    const parsed = parseInventoryText(CITY, 'city.yaml');
    if (!parsed.ok) throw new Error('the example inventory does not parse');
    const inventory = createInventoryService({ db, now: () => Date.parse('2026-05-01T08:00:00Z'), devices: createDeviceRegistry(db, { hasher: testHasher }), hashSecret, hashConcurrency: concurrency });
    return { inventory, city: parsed.value };
  }

  it.each([1, 2, 5])('at most %i at once (the thread pool is the durable log\'s too), and every device gets its own hash', async (concurrency) => {
    let running = 0;
    let most = 0;
    // A hash that takes a while, as scrypt on the pool does: the next ones start only when it is done.
    const hashSecret = async (secret: string): Promise<string> => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      return `hash:${secret}`;
    };
    const { inventory, city } = setUp(hashSecret, concurrency);
    const { credentials } = await inventory.importInventory(city);
    expect(credentials).toHaveLength(2318);
    expect(most).toBe(concurrency);
    const rows = db.prepare('SELECT id, secret_hash FROM devices').all() as Array<{ id: string; secret_hash: string }>;
    const secrets = new Map(credentials.map((c) => [c.deviceId, c.secret]));
    expect(rows.filter((r) => r.secret_hash !== `hash:${secrets.get(r.id)}`)).toEqual([]);
  });

  it('a hash that fails stops the import\'s hashing: nothing is still hashing once it is refused, and nothing starts after', async () => {
    let running = 0;
    let started = 0;
    const hashSecret = async (secret: string): Promise<string> => {
      const n = ++started;
      running++;
      try {
        await new Promise((resolve) => setImmediate(resolve));
        if (n === 3) throw new Error('scrypt: out of memory');
        return `hash:${secret}`;
      } finally {
        running--;
      }
    };
    const { inventory, city } = setUp(hashSecret, 2);
    let runningAtRefusal = -1;
    await expect(inventory.importInventory(city).catch((error: unknown) => {
      runningAtRefusal = running;
      throw error;
    })).rejects.toThrow('out of memory');
    // The import is refused only once its hashes are done: the next import (the queue lets it
    // start now) must not share the thread pool with the rest of this one's 2,318.
    expect(runningAtRefusal).toBe(0);
    const startedAtRefusal = started;
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(started).toBe(startedAtRefusal);
    expect(started).toBeLessThanOrEqual(4);
    expect((db.prepare('SELECT COUNT(*) AS n FROM devices').get() as { n: number }).n).toBe(0);
  });
});
