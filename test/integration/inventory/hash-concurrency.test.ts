import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../registry/db.ts';
import { createDeviceRegistry } from '../../../registry/devices.ts';
import { createInventoryService } from '../../../inventory/service.ts';
import { parseInventoryText } from '../../../inventory/parse.ts';

const CITY = readFileSync(new URL('../../../inventory/examples/city.yaml', import.meta.url), 'utf8');

describe('an import hashes new devices\' secrets a few at a time', () => {
  let dir: string;
  let db: Db;
  afterEach(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([1, 2, 5])('at most %i at once (the thread pool is the durable log\'s too), and every device gets its own hash', async (concurrency) => {
    dir = mkdtempSync(join(tmpdir(), 'gs-inv-hash-'));
    db = openDb(join(dir, 'greenspace.db'));
    const parsed = parseInventoryText(CITY, 'city.yaml');
    if (!parsed.ok) throw new Error('the example inventory does not parse');
    let running = 0;
    let most = 0;
    // A hash that takes a while, as scrypt on the pool does: the next ones start only when it is done.
    const hashSecret = async (secret: string): Promise<string> => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      return `hash:${secret}`;
    };
    const inventory = createInventoryService({ db, now: () => Date.parse('2026-05-01T08:00:00Z'), devices: createDeviceRegistry(db), hashSecret, hashConcurrency: concurrency });
    const { credentials } = await inventory.importInventory(parsed.value);
    expect(credentials).toHaveLength(2318);
    expect(most).toBe(concurrency);
    const rows = db.prepare('SELECT id, secret_hash FROM devices').all() as Array<{ id: string; secret_hash: string }>;
    const secrets = new Map(credentials.map((c) => [c.deviceId, c.secret]));
    expect(rows.filter((r) => r.secret_hash !== `hash:${secrets.get(r.id)}`)).toEqual([]);
  });
});
