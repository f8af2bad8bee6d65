import { Worker } from 'node:worker_threads';
import type { Inventory } from '../contracts/inventory.ts';
import { checkSize, scanJson, scanYaml } from '../lib/bounded-yaml.ts';
import { INVENTORY_LIMITS, refused, type CheckedInventory } from './parse.ts';
import type { ParseAnswer, ParseJob } from './parse-worker.ts';
import { workerEntry } from '../lib/worker-entry.ts';

export interface ParseThreadOptions {
  /** A parse running longer is stopped (the worker terminated) and the document refused. */
  deadlineMs?: number;
  /** The worker's heap: a document that needs more is refused, the process unharmed. */
  maxHeapMb?: number;
  /** An idle worker is ended after this long; the next document starts a new one. */
  idleMs?: number;
  /** Bytes of a document scanned on the event loop before it is sent: refuses the crude bombs at once, even while the worker starts. */
  prefixBytes?: number;
}

/**
 * Inventory documents parsed and validated on a worker thread: the city's 835 KB of YAML
 * took the event loop ~3 s (every PUBACK waited), and a 2 MB document of nested brackets
 * ran the process out of memory. The worker is started for the first document and ended
 * when idle; one document at a time. A parse past its deadline or its heap ends the
 * worker and refuses that document only. Only the first `prefixBytes` are looked at here.
 */
export function createParseThread(options: ParseThreadOptions = {}) {
  const deadlineMs = options.deadlineMs ?? 60_000;
  const maxHeapMb = options.maxHeapMb ?? 512;
  const idleMs = options.idleMs ?? 30_000;
  const prefixBytes = options.prefixBytes ?? 16 * 1024;
  let worker: Worker | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let nextId = 0;
  let queue: Promise<unknown> = Promise.resolve();

  const stop = (): void => {
    clearTimeout(idleTimer);
    const w = worker;
    worker = undefined;
    void w?.terminate();
  };
  const start = (): Worker => {
    clearTimeout(idleTimer);
    if (worker) return worker;
    worker = new Worker(workerEntry(import.meta.url, 'parse-worker'), { resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } });
    worker.unref();
    return worker;
  };

  function run(job: ParseJob): Promise<ParseAnswer> {
    const w = start();
    return new Promise<ParseAnswer>((resolve) => {
      const refuse = (message: string): void => {
        finish();
        stop();
        resolve({ id: job.id, ok: false, problems: [{ file: job.file, path: '(document)', message }] });
      };
      const onMessage = (answer: ParseAnswer): void => {
        if (answer.id !== job.id) return;
        finish();
        idleTimer = setTimeout(stop, idleMs);
        idleTimer.unref();
        resolve(answer);
      };
      const onError = (error: Error): void => refuse((error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? `too complex: parsing needed more than ${maxHeapMb} MB`
        : `not parsed: ${error.message}`);
      const onExit = (): void => refuse('not parsed: the parser stopped');
      const timer = setTimeout(() => refuse(`too complex: not parsed within ${deadlineMs / 1000} s`), deadlineMs);
      const finish = (): void => {
        clearTimeout(timer);
        w.off('message', onMessage).off('error', onError).off('exit', onExit);
      };
      w.on('message', onMessage).on('error', onError).on('exit', onExit);
      w.postMessage(job);
    });
  }

  return {
    /** Parse and validate an inventory document off the event loop: the same result as parse.ts. */
    parse(text: string, file: string, format: 'yaml' | 'json'): Promise<CheckedInventory> {
      const prefix = text.length > prefixBytes ? text.slice(0, prefixBytes) : text;
      const early = checkSize(text, INVENTORY_LIMITS.maxBytes) ?? (format === 'json' ? scanJson(prefix, INVENTORY_LIMITS.maxDepth) : scanYaml(prefix, INVENTORY_LIMITS));
      if (early) return Promise.resolve(refused([{ file, path: '(document)', message: early.message, ...(early.line === undefined ? {} : { line: early.line }) }]));
      const next = queue.then(() => run({ id: nextId++, text, file, format }));
      queue = next.catch(() => undefined);
      return next.then((answer): CheckedInventory => (answer.ok ? { ok: true, value: JSON.parse(answer.inventory) as Inventory, warnings: answer.warnings } : refused(answer.problems)));
    },
    close: stop,
  };
}
export type ParseThread = ReturnType<typeof createParseThread>;
