import type { Statement } from 'better-sqlite3';
import type { Db } from '../registry/db.ts';
import { CodedError } from '../lib/errors.ts';
import type { ChangeCounts, DeviceCredential, ImportReport, Inventory, RowChange } from '../contracts/inventory.ts';
import { generateSecret as defaultGenerateSecret } from '../registry/secrets.ts';
import { TABLES, keyOf, type Row, type TableSpec } from './tables.ts';
import { inventoryToRows } from './rows.ts';
import { planImport, type CurrentRows, type TablePlan } from './plan.ts';

export interface ImporterDeps {
  db: Db;
  /** Epoch ms; stamps retired_at and created_at. */
  now: () => number;
  generateSecret?: () => string;
  /**
   * How a new device's secret is stored: the data directory's keyed hash (`hasher.hash`,
   * registry/secrets.ts), a few microseconds each, so the city's 2,318 take milliseconds.
   * Asynchronous hashes are allowed and bounded by `hashConcurrency`.
   */
  hashSecret: (secret: string) => string | Promise<string>;
  /**
   * How many asynchronous hashes run at once. A hash on libuv's thread pool (scrypt, as
   * device secrets once were) shares it with the durable log's writes and fdatasync: an
   * import that queued 2,318 at once held the log (and every QoS 1 PUBACK) for as long as
   * they took. The running app passes GS_MQTT_AUTH_CONCURRENCY. Default 2.
   */
  hashConcurrency?: number;
  /** Told where an import is, for a progress display (the CLI's bar on a terminal). */
  onProgress?: (step: ImportStep) => void;
  /** Told which devices an import touched, so an in-memory index (the device registry) can re-read them; the import resolves once it has. */
  onDevicesChanged?: (ids: string[]) => void | Promise<void>;
}

/** Where an import is: `hashing` counts new devices' secrets (`done` of `total`); the others are single steps. */
export interface ImportStep { phase: 'planning' | 'hashing' | 'writing' | 'refreshing' | 'done'; done: number; total: number }

export interface ImportResult { report: ImportReport; credentials: DeviceCredential[] }

export type InventoryImporter = ReturnType<typeof createInventoryImporter>;

/**
 * Imports make the registry match the file, in one transaction. Imports run one at a
 * time: new devices' secrets are hashed between planning and writing (an asynchronous hash
 * lets other writers in meanwhile: the plan is checked again before writing).
 */
export function createInventoryImporter(deps: ImporterDeps) {
  const { db } = deps;
  const generateSecret = deps.generateSecret ?? defaultGenerateSecret;
  const { hashSecret } = deps;
  let queue: Promise<unknown> = Promise.resolve();

  const readCurrent = (): CurrentRows => Object.fromEntries(TABLES.map((spec) => [
    spec.table,
    db.prepare(`SELECT ${[...spec.key, ...spec.columns].join(', ')} FROM ${spec.table}`).all() as Row[],
  ])) as CurrentRows;
  const totalChanges = (): number => (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
  /** Moves with every write: this connection's own (total_changes) and any other's (data_version). */
  const registryVersion = (): string => `${totalChanges()}:${String(db.pragma('data_version', { simple: true }))}`;

  async function run(inv: Inventory, options: { prune: boolean }): Promise<ImportResult> {
    const progress = deps.onProgress ?? (() => undefined);
    progress({ phase: 'planning', done: 0, total: 0 });
    const desired = inventoryToRows(inv);
    const firstPlan = planImport(readCurrent(), desired, options);
    const newDevices = firstPlan.find((p) => p.spec.table === 'devices')?.inserts.map((r) => String(r.id)) ?? [];
    const credentials = newDevices.map((deviceId) => ({ deviceId, secret: generateSecret() }));
    const planned = registryVersion();
    const hashes = await hashAll(credentials, hashSecret, deps.hashConcurrency ?? 2, (done) => progress({ phase: 'hashing', done, total: credentials.length }));
    progress({ phase: 'writing', done: 0, total: 0 });

    const before = totalChanges();
    let plans: TablePlan[];
    try {
      plans = db.transaction(() => {
        // Planned again inside the transaction if another writer (the API, a lifecycle call)
        // moved on while the secrets were hashed; else the first plan stands (planning the
        // city holds the event loop ~100 ms, and this whole transaction runs on it).
        const plan = registryVersion() === planned ? firstPlan : planImport(readCurrent(), desired, options);
        write(plan, hashes);
        return plan;
      })();
    } catch (error) {
      // A constraint (a row still referenced by one outside the inventory, say) rolls the whole import back.
      if ((error as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) {
        throw new CodedError('conflict', `the registry refused the import, nothing was changed: ${(error as Error).message}`, { cause: error });
      }
      throw error;
    }
    const rowsWritten = totalChanges() - before;
    // The transaction ran on the event loop; let the PUBACKs waiting behind it out before the index is refreshed.
    await new Promise((resolve) => setImmediate(resolve));
    const report = summarise(plans, rowsWritten);
    const touched = plans.find((p) => p.spec.table === 'devices');
    await announceChanges(db, plans, touched, deps.onDevicesChanged, () => progress({ phase: 'refreshing', done: 0, total: 0 }));
    progress({ phase: 'done', done: 0, total: 0 });
    const inserted = new Set(touched?.inserts.map((r) => String(r.id)));
    return { report, credentials: credentials.filter((c) => inserted.has(c.deviceId)) };
  }

  function write(plans: TablePlan[], hashes: Map<string, string>): void {
    const at = new Date(deps.now()).toISOString();
    // One statement per distinct SQL: preparing one per row was most of a city import's
    // time on the event loop (2,318 devices, every place).
    const statements = new Map<string, Statement<unknown[]>>();
    const prepare = (sql: string): Statement<unknown[]> => {
      let statement = statements.get(sql);
      if (!statement) statements.set(sql, (statement = db.prepare<unknown[]>(sql)));
      return statement;
    };
    const where = (spec: TableSpec) => spec.key.map((k) => `${k} = ?`).join(' AND ');
    const keyValues = (spec: TableSpec, row: Row) => spec.key.map((k) => row[k] ?? null);

    for (const { spec, retires } of plans) {
      if (retires.length === 0) continue;
      const clearEui = spec.table === 'devices' ? ', dev_eui = NULL' : ''; // a retired device frees its EUI for the hardware's next life
      const stmt = db.prepare(`UPDATE ${spec.table} SET retired_at = ?${clearEui} WHERE ${where(spec)}`);
      for (const row of retires) stmt.run(at, ...keyValues(spec, row));
    }
    // Two devices may swap EUIs in one file: release the changing ones before any is set.
    const devices = plans.find((p) => p.spec.table === 'devices');
    const release = db.prepare('UPDATE devices SET dev_eui = NULL WHERE id = ?');
    for (const u of devices?.updates ?? []) if (u.columns.includes('dev_eui')) release.run(u.row.id);

    for (const { spec, inserts, updates } of plans) {
      for (const row of inserts) {
        const values: Row = { ...row };
        if (spec.table === 'devices') {
          const hash = hashes.get(String(row.id));
          if (!hash) throw new CodedError('conflict', `device ${String(row.id)} appeared while the inventory was being imported; import again`);
          Object.assign(values, { secret_hash: hash, created_at: at });
        }
        const cols = Object.keys(values).filter((c) => values[c] !== undefined);
        prepare(`INSERT INTO ${spec.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...cols.map((c) => values[c] ?? null));
      }
      for (const { row, columns } of updates) {
        prepare(`UPDATE ${spec.table} SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE ${where(spec)}`)
          .run(...columns.map((c) => row[c] ?? null), ...keyValues(spec, row));
      }
    }
    // Deletes last and children first: a row that moved away from a deleted parent has moved by now.
    for (const { spec, deletes } of [...plans].reverse()) {
      if (deletes.length === 0) continue;
      const stmt = db.prepare(`DELETE FROM ${spec.table} WHERE ${where(spec)}`);
      for (const row of deletes) stmt.run(...keyValues(spec, row));
    }
  }

  return {
    /** What an import of `inv` would change, written nowhere. */
    previewInventory(inv: Inventory, options: { prune?: boolean } = {}): ImportReport {
      return summarise(planImport(readCurrent(), inventoryToRows(inv), { prune: options.prune ?? false }), 0);
    },
    /** Make the registry match `inv`. `prune` deletes rows the file no longer lists instead of retiring them. */
    importInventory(inv: Inventory, options: { prune?: boolean } = {}): Promise<ImportResult> {
      const next = queue.then(() => run(inv, { prune: options.prune ?? false }));
      queue = next.catch(() => undefined);
      return next;
    },
  };
}

/** Tell the in-memory index which devices an import touched (every device when a place moved). */
async function announceChanges(db: Db, plans: TablePlan[], touched: TablePlan | undefined, onDevicesChanged: ImporterDeps['onDevicesChanged'], refreshing: () => void): Promise<void> {
  if (!touched || !onDevicesChanged) return;
  const ids = [...touched.inserts, ...touched.updates.map((u) => u.row), ...touched.retires, ...touched.deletes].map((r) => String(r.id));
  // A moved zone or community changes the tags of every device in it: re-read all then.
  const placesChanged = plans.some((p) => ['communities', 'zones', 'facilities', 'sub_districts'].includes(p.spec.table) && p.updates.length + p.retires.length + p.deletes.length > 0);
  const all = placesChanged ? (db.prepare('SELECT id FROM devices').all() as Array<{ id: string }>).map((r) => r.id) : [];
  if (ids.length + all.length === 0) return;
  refreshing();
  await onDevicesChanged([...new Set([...ids, ...all])]);
}

function summarise(plans: TablePlan[], rowsWritten: number): ImportReport {
  const zero = (): ChangeCounts => ({ inserted: 0, updated: 0, retired: 0, deleted: 0 });
  const totals = zero();
  const tables: Record<string, ChangeCounts> = {};
  const changes: RowChange[] = [];
  for (const p of plans) {
    const counts = { inserted: p.inserts.length, updated: p.updates.length, retired: p.retires.length, deleted: p.deletes.length };
    tables[p.spec.table] = counts;
    for (const k of ['inserted', 'updated', 'retired', 'deleted'] as const) totals[k] += counts[k];
    for (const r of p.inserts) changes.push({ table: p.spec.table, key: keyOf(p.spec, r), action: 'inserted' });
    for (const u of p.updates) changes.push({ table: p.spec.table, key: keyOf(p.spec, u.row), action: 'updated', columns: u.columns });
    for (const r of p.retires) changes.push({ table: p.spec.table, key: keyOf(p.spec, r), action: 'retired' });
    for (const r of p.deletes) changes.push({ table: p.spec.table, key: keyOf(p.spec, r), action: 'deleted' });
  }
  return { tables, totals, changes, rowsWritten };
}

/**
 * Each credential's secret hashed, at most `concurrency` at a time. When one hash fails, no
 * other starts, and the failure is reported once those running have ended: the import is
 * refused only when it no longer holds the thread pool, so the next one queued behind it
 * (imports run one at a time) does not hash alongside the rest of this one.
 */
async function hashAll(credentials: DeviceCredential[], hash: ImporterDeps['hashSecret'], concurrency: number, hashed: (done: number) => void): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < credentials.length) {
      const { deviceId, secret } = credentials[next++]!;
      try {
        hashes.set(deviceId, await hash(secret));
        if (hashes.size % 256 === 0 || hashes.size === credentials.length) hashed(hashes.size);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const outcomes = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(concurrency, credentials.length)) }, worker));
  const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (refused) throw refused.reason;
  return hashes;
}
