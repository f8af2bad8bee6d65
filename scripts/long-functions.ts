import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * Functions longer than a reader can hold at once: every function declaration, function
 * expression, arrow function, method, accessor and constructor over `MAX_LINES` lines in the
 * git-tracked `.ts` files outside `test/`. `test/unit/long-functions.test.ts` holds the code to
 * it; `npx tsx scripts/long-functions.ts` prints the list (exit code 1 when there is one).
 *
 * A function's length runs from its first token (after leading comments) to its last, so a
 * doc comment does not count and a nested function counts inside its parent too.
 */

export const MAX_LINES = 120;

export interface LongFunction {
  /** Repository-relative path, `/`-separated. */
  file: string;
  /** The function's own name, or the variable, property or class member it is assigned to. */
  name: string;
  /** 1-based line of its first token. */
  line: number;
  lines: number;
}

/** The git-tracked TypeScript sources outside test/ (declaration files are not code). */
export function listTrackedSources(root: string): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--', '*.ts'], { cwd: root, encoding: 'utf8' });
  return out
    .split('\0')
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.startsWith('test/'))
    .sort();
}

function nameOf(node: ts.FunctionLikeDeclaration): string {
  if (node.name && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name) || ts.isPrivateIdentifier(node.name))) return node.name.text;
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (ts.isPropertyAssignment(parent) && (ts.isIdentifier(parent.name) || ts.isStringLiteral(parent.name))) return parent.name.text;
  if (ts.isPropertyDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken) return parent.left.getText();
  return '<anonymous>';
}

/** The functions of one source text longer than `max` lines, in source order. */
export function findLongFunctions(file: string, text: string, max = MAX_LINES): LongFunction[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const fn = node as ts.FunctionLikeDeclaration;
      const first = source.getLineAndCharacterOfPosition(fn.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(fn.getEnd()).line;
      const lines = last - first + 1;
      if (lines > max) found.push({ file, name: nameOf(fn), line: first + 1, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

export function listLongFunctions(root: string, max = MAX_LINES): LongFunction[] {
  return listTrackedSources(root).flatMap((file) => findLongFunctions(file, readFileSync(join(root, file), 'utf8'), max));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const long = listLongFunctions(root);
  for (const f of long) process.stdout.write(`${`${f.file}:${f.line}`.padEnd(40)} ${f.name} (${f.lines} lines)\n`);
  process.stdout.write(long.length === 0 ? `no function over ${MAX_LINES} lines\n` : `\n${long.length} over ${MAX_LINES} lines\n`);
  process.exitCode = long.length === 0 ? 0 : 1;
}
