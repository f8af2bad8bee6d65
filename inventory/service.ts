import type { Db } from '../registry/db.ts';
import type { ImportReport, Inventory } from '../contracts/inventory.ts';
import { createInventoryImporter, type ImporterDeps } from './apply.ts';
import { exportInventory } from './export.ts';
import { createParseThread, type ParseThreadOptions } from './parse-thread.ts';

export type InventoryService = ReturnType<typeof createInventoryService>;

const REFRESH_SLICE = 200;

/**
 * Import and export for a running process: after an import the device registry's
 * in-memory index re-reads every device the import touched, so the broker and ingest
 * see new, moved and retired devices at once.
 */
export function createInventoryService(deps: {
  db: Db;
  now: () => number;
  devices: { refresh(id: string): unknown };
  hashSecret: ImporterDeps['hashSecret'];
  hashConcurrency?: ImporterDeps['hashConcurrency'];
  parsing?: ParseThreadOptions;
}) {
  const parser = createParseThread(deps.parsing);
  const retiredListeners: Array<(ids: string[]) => void> = [];
  const importedListeners: Array<(report: ImportReport) => void> = [];
  const importer = createInventoryImporter({
    db: deps.db,
    now: deps.now,
    hashSecret: deps.hashSecret,
    hashConcurrency: deps.hashConcurrency,
    onDevicesChanged: async (ids) => {
      // In slices, the event loop served between them: the city's 2,318 devices re-read at
      // once held it ~150 ms (several times that on a busy machine), every PUBACK behind them.
      const gone: string[] = [];
      for (let i = 0; i < ids.length; i += REFRESH_SLICE) {
        if (i > 0) await new Promise((resolve) => setImmediate(resolve));
        for (const id of ids.slice(i, i + REFRESH_SLICE)) if (deps.devices.refresh(id) === undefined) gone.push(id);
      }
      if (gone.length > 0) for (const listener of retiredListeners) listener(gone);
    },
  });
  return {
    /** Devices an import retired or deleted: the broker drops their connections. */
    onDevicesRemoved(listener: (ids: string[]) => void): () => void {
      retiredListeners.push(listener);
      return () => remove(retiredListeners, listener);
    },
    /**
     * After every import that wrote rows: features holding registry data in memory (the
     * facility thresholds the health rules judge by) re-read it. Listeners must not throw.
     */
    onImported(listener: (report: ImportReport) => void): () => void {
      importedListeners.push(listener);
      return () => remove(importedListeners, listener);
    },
    async importInventory(...args: Parameters<typeof importer.importInventory>): ReturnType<typeof importer.importInventory> {
      const result = await importer.importInventory(...args);
      if (result.report.rowsWritten > 0) for (const listener of importedListeners) listener(result.report);
      return result;
    },
    previewInventory: importer.previewInventory,
    /** Parse and validate an uploaded document on a worker thread (parse-thread.ts): the event loop keeps serving MQTT meanwhile. */
    parseInventory: parser.parse,
    /** End the parse worker if one runs (it is also ended when idle and never holds the process open). */
    close: parser.close,
    exportInventory: (): Inventory => exportInventory(deps.db),
  };
}

function remove<T>(list: T[], item: T): void {
  const at = list.indexOf(item);
  if (at >= 0) list.splice(at, 1);
}
