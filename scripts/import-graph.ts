import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The repository's import graph, folder by folder: which top-level folder imports which.
 * `test/unit/import-graph.test.ts` holds it to the allowed edges (docs/architecture.md,
 * "Imports"); `npx tsx scripts/import-graph.ts` prints it.
 *
 * Imports are read with TypeScript's own pre-processor (static, type-only, re-exports and
 * dynamic `import()`), so a comment or a string that looks like an import is not one.
 */

const SOURCE = /\.(ts|mts|cts|mjs|cjs|js)$/;
// Dependencies, data, and build or tool output: not the code's own imports.
const SKIP = new Set(['node_modules', 'data', 'out', 'dist', 'build', 'coverage']);

/** A top-level file (app.ts, main.ts, cli.ts) is a node of its own, named by its file name. */
export const folderOf = (file: string): string => file.split('/')[0]!;

export interface ImportGraph {
  /** Repository-relative source files, `/`-separated. */
  files: string[];
  /** file → the repository files it imports (packages and node: built-ins left out). */
  imports: Map<string, string[]>;
  /** folder → folders it imports (itself left out). */
  folders: Map<string, Set<string>>;
}

function listSources(root: string, dir = root, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) listSources(root, path, out);
    else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts') && !entry.name.endsWith('.d.cts')) out.push(relative(root, path).split(sep).join('/'));
  }
  return out;
}

export function readImportGraph(root: string): ImportGraph {
  const files = listSources(root).sort();
  const imports = new Map<string, string[]>();
  const folders = new Map<string, Set<string>>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
    const targets = info.importedFiles
      .map((f) => f.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => relative(root, resolve(root, dirname(file), name)).split(sep).join('/'));
    imports.set(file, targets);
    const from = folderOf(file);
    const edges = folders.get(from) ?? folders.set(from, new Set()).get(from)!;
    for (const target of targets) if (folderOf(target) !== from) edges.add(folderOf(target));
  }
  return { files, imports, folders };
}

/** Every cycle of the folder graph, each as its folders in order (Tarjan's strongly connected components). */
export function folderCycles(folders: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of folders.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const v of [...folders.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const { folders } = readImportGraph(root);
  for (const [from, to] of [...folders].sort(([a], [b]) => a.localeCompare(b))) {
    process.stdout.write(`${from.padEnd(14)} → ${[...to].sort().join(', ') || '(nothing)'}\n`);
  }
  const cycles = folderCycles(folders);
  process.stdout.write(cycles.length === 0 ? '\nno cycle between folders\n' : `\ncycles: ${cycles.map((c) => c.join(' ↔ ')).join('; ')}\n`);
  process.exitCode = cycles.length === 0 ? 0 : 1;
}
