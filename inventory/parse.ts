import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { Inventory, type InventoryProblem } from '../contracts/inventory.ts';
import { err, ok, type Result } from '../lib/result.ts';
import { checkReferences } from './check.ts';
import { describeIssue, problem, type Path } from './problems.ts';

/** Past this many problems the rest are noise; the operator fixes these first. */
const MAX_PROBLEMS = 100;

/**
 * Read an inventory document (YAML, or JSON — a subset of YAML) and validate it: syntax,
 * schema, then cross-references. Every problem names the file, the path inside it and,
 * for text input, the line.
 */
export function parseInventoryText(text: string, file: string): Result<Inventory, InventoryProblem[]> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    return err(doc.errors.slice(0, MAX_PROBLEMS).map((e) => {
      const at = lines.linePos(e.pos[0]);
      return { file, path: `line ${at.line}, column ${at.col}`, message: e.message.split('\n')[0] ?? e.code, line: at.line };
    }));
  }
  const lineOf = (path: Path): number | undefined => lineAt(doc, lines, path);
  return validateInventory(doc.toJS({ maxAliasCount: 100 }), file, lineOf);
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

/** The line of the deepest node on `path` that exists (a missing key points at its parent). */
function lineAt(doc: Document, lines: LineCounter, path: Path): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}
