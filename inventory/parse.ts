import { Inventory, type InventoryProblem } from '../contracts/inventory.ts';
import { checkSize, parseBoundedYaml, scanJson, type DocumentLimits, type LimitProblem } from '../lib/bounded-yaml.ts';
import { err, ok, type Result } from '../lib/result.ts';
import { checkReferences } from './check.ts';
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
export function parseInventoryText(text: string, file: string, limits: DocumentLimits = INVENTORY_LIMITS): Result<Inventory, InventoryProblem[]> {
  const bounded = parseBoundedYaml(text, limits);
  if (!bounded.ok) return err(limitProblem(file, bounded.problem));
  const { doc, lines } = bounded;
  if (doc.errors.length > 0) {
    return err(doc.errors.slice(0, MAX_PROBLEMS).map((e) => {
      const at = lines.linePos(e.pos[0]);
      return { file, path: `line ${at.line}, column ${at.col}`, message: e.message.split('\n')[0] ?? e.code, line: at.line };
    }));
  }
  const lineOf = (path: Path): number | undefined => lineAt(doc, lines, path);
  return validateInventory(doc.toJS({ maxAliasCount: limits.maxAliases }), file, lineOf);
}

/** A JSON inventory (an API body), within the same bounds; problems carry no lines. */
export function parseInventoryJson(text: string, file: string, limits: DocumentLimits = INVENTORY_LIMITS): Result<Inventory, InventoryProblem[]> {
  const problem = checkSize(text, limits.maxBytes) ?? scanJson(text, limits.maxDepth);
  if (problem) return err(limitProblem(file, problem));
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return err([{ file, path: '(document)', message: `invalid JSON: ${(error as Error).message}` }]);
  }
  return validateInventory(data, file);
}

/** Validate an already-parsed document (an API body, say). */
export function validateInventory(
  data: unknown,
  file: string,
  lineOf: (path: Path) => number | undefined = () => undefined,
): Result<Inventory, InventoryProblem[]> {
  const parsed = Inventory.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap(describeIssue).slice(0, MAX_PROBLEMS);
    return err(problems.map((p) => problem(file, p.path, p.message, lineOf(p.path))));
  }
  const crossRefs = checkReferences(parsed.data);
  if (crossRefs.length > 0) return err(crossRefs.slice(0, MAX_PROBLEMS).map((p) => problem(file, p.path, p.message, lineOf(p.path))));
  return ok(parsed.data);
}
