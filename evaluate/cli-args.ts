import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { Inventory } from '../contracts/inventory.ts';
import { readInventoryFile } from '../inventory/files.ts';

/** The options `npm run evaluate` and `npm run evaluate:bound` share (each adds its own). */
export const COMMON_ARGS = {
  inventory: z.string().default('inventory/examples/city.yaml'),
  days: z.coerce.number().int().positive().optional(),
  zones: z.coerce.number().int().positive().optional(),
  seed: z.coerce.number().int().default(14),
  out: z.string().default('evaluate/out'),
};

/**
 * The command line read against a schema: undefined after --help (the usage printed); an
 * unknown option, a missing value (parseArgs throws on both) or a value the schema refuses
 * ends the process with 2 and says which.
 */
export function readCli<S extends z.ZodRawShape>(argv: string[], shape: S, flags: readonly string[], usage: string): z.infer<z.ZodObject<S>> | undefined {
  const options = Object.fromEntries([...Object.keys(shape).map((k) => [k, { type: flags.includes(k) ? 'boolean' : 'string' }] as const), ['help', { type: 'boolean' }] as const]);
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv, options }).values;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    process.exit(2);
  }
  const { help, ...rest } = values;
  if (help) {
    process.stdout.write(usage);
    return undefined;
  }
  const parsed = z.object(shape).safeParse(rest);
  if (!parsed.success) {
    process.stderr.write(`${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n')}\n`);
    process.exit(2);
  }
  return parsed.data;
}

/** The inventory an evaluation reads: bands the soil cannot hold are evaluated and listed as infeasible, not refused; anything else wrong ends the process with `file:line: path: message`. */
export function readEvaluationInventory(path: string): Inventory {
  const inv = readInventoryFile(path, { infeasibleBands: 'warn' });
  if (!inv.ok) {
    process.stderr.write(`${inv.error.map((p) => `${p.file ?? path}:${p.line ?? 0}: ${p.path}: ${p.message}`).join('\n')}\n`);
    process.exit(1);
  }
  return inv.value;
}
