import { Inventory, type InventoryProblem } from '../contracts/inventory.ts';
import { checkSize, parseBoundedYaml, scanJson, type DocumentLimits, type LimitProblem } from '../lib/bounded-yaml.ts';
import { checkReferences } from './check.ts';
import { checkFeasibility } from './feasibility.ts';
import { describeIssue, lineAt, problem, type Path } from './problems.ts';

/** Past this many problems the rest are noise; the operator fixes these first. */
const MAX_PROBLEMS = 100;

/**
 * An inventory document's bounds. The city (2,318 devices) is 835 KB of YAML and nests 9
 * deep; 4 MiB leaves room for a city five times its size. Nothing in the format uses aliases.
 */
export const INVENTORY_LIMITS: DocumentLimits = { maxBytes: 4 * 1024 * 1024, maxDepth: 64, maxAliases: 100 };

const limitProblem = (file: string, p: LimitProblem): InventoryProblem[] => [{ file, path: '(document)', message: p.message, ...(p.line === undefined ? {} : { line: p.line }) }];

/**
 * Read an inventory document (YAML, or JSON — a subset of YAML) and validate it: bounds
 * (size, nesting, aliases: lib/bounded-yaml.ts), syntax, schema, then cross-references.
 * Every problem names the file, the path inside it and, for text input, the line.
 * Synchronous and slow for a city-sized file (seconds): a running server calls it through
 * parse-thread.ts, off the event loop.
 */
export function parseInventoryText(text: string, file: string, limits: DocumentLimits = INVENTORY_LIMITS, options: CheckOptions = {}): CheckedInventory {
  const bounded = parseBoundedYaml(text, limits);
  if (!bounded.ok) return refused(limitProblem(file, bounded.problem));
  const { doc, lines } = bounded;
  if (doc.errors.length > 0) {
    return refused(doc.errors.slice(0, MAX_PROBLEMS).map((e) => {
      const at = lines.linePos(e.pos[0]);
      return { file, path: `line ${at.line}, column ${at.col}`, message: e.message.split('\n')[0] ?? e.code, line: at.line };
    }));
  }
  const lineOf = (path: Path): number | undefined => lineAt(doc, lines, path);
  return validateInventory(doc.toJS({ maxAliasCount: limits.maxAliases }), file, lineOf, options);
}

/** A JSON inventory (an API body), within the same bounds; problems carry no lines. */
export function parseInventoryJson(text: string, file: string, limits: DocumentLimits = INVENTORY_LIMITS): CheckedInventory {
  const problem = checkSize(text, limits.maxBytes) ?? scanJson(text, limits.maxDepth);
  if (problem) return refused(limitProblem(file, problem));
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return refused([{ file, path: '(document)', message: `invalid JSON: ${(error as Error).message}` }]);
  }
  return validateInventory(data, file);
}

/**
 * A checked inventory, or why it is refused. An accepted one may carry warnings: what
 * imports but will not work as hoped (a valve too small for its zone's hot days), each
 * `file:line: path: message` like a problem.
 */
export type CheckedInventory = { ok: true; value: Inventory; warnings: InventoryProblem[] } | { ok: false; error: InventoryProblem[] };

export const refused = (error: InventoryProblem[]): CheckedInventory => ({ ok: false, error });

export interface CheckOptions {
  /**
   * `warn`: a band the soil cannot hold is a warning, not a refusal. For tools that study
   * such zones (the evaluation lists them as infeasible); an import always refuses them.
   */
  infeasibleBands?: 'refuse' | 'warn';
}

/** Validate an already-parsed document (an API body, say). */
export function validateInventory(
  data: unknown,
  file: string,
  lineOf: (path: Path) => number | undefined = () => undefined,
  options: CheckOptions = {},
): CheckedInventory {
  const parsed = Inventory.safeParse(data, { reportInput: true });
  const at = (p: { path: Path; message: string }) => problem(file, p.path, p.message, lineOf(p.path));
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap(describeIssue).slice(0, MAX_PROBLEMS);
    return refused(problems.map(at));
  }
  // Bands the soil cannot hold are refused with the references: every problem at once.
  const feasibility = checkFeasibility(parsed.data);
  const lenient = options.infeasibleBands === 'warn';
  const problems = [...checkReferences(parsed.data), ...(lenient ? [] : feasibility.refusals)];
  if (problems.length > 0) return refused(problems.slice(0, MAX_PROBLEMS).map(at));
  return { ok: true, value: parsed.data, warnings: [...(lenient ? feasibility.refusals : []), ...feasibility.warnings].slice(0, MAX_PROBLEMS).map(at) };
}
