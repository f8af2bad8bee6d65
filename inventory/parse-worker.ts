import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { InventoryProblem } from '../contracts/inventory.ts';
import { parseInventoryJson, parseInventoryText } from './parse.ts';

/** One document to parse and validate. */
export interface ParseJob { id: number; text: string; file: string; format: 'yaml' | 'json' }
/** The validated inventory travels as JSON text: parsing it costs the event loop ~10 ms for the city, a structured clone ~45 ms. */
export type ParseAnswer = { id: number; ok: true; inventory: string; warnings: InventoryProblem[] } | { id: number; ok: false; problems: InventoryProblem[] };

// The parse yields the CPU to the broker: on Linux a priority set from a thread applies to
// that thread only (setpriority with pid 0), so on a machine with few cores the event loop
// serving MQTT wins over a long parse. Elsewhere it would lower the whole process: skipped.
if (process.platform === 'linux') {
  try {
    setPriority(19);
  } catch {
    // not permitted (a restricted container): the parse runs at the process's priority
  }
}

/** The worker's side of parse-thread.ts: parse each job it is sent, answer each. */
parentPort?.on('message', (job: ParseJob) => {
  const parsed = job.format === 'json' ? parseInventoryJson(job.text, job.file) : parseInventoryText(job.text, job.file);
  const answer: ParseAnswer = parsed.ok
    ? { id: job.id, ok: true, inventory: JSON.stringify(parsed.value), warnings: parsed.warnings }
    : { id: job.id, ok: false, problems: parsed.error };
  parentPort?.postMessage(answer);
});
