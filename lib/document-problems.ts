import { isNode, type Document, type LineCounter } from 'yaml';
import type { z } from 'zod';

/**
 * Problems in a document an operator edits (an inventory, a device profile), in the words
 * they act on: `file:line: path: message`.
 */

export type PathKey = string | number;
export type Path = readonly PathKey[];

/** `districts[1].subDistricts[0].name`: the way people point into a YAML document. */
export function formatPath(path: Path): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? key : `.${key}`;
  }
  return out === '' ? '(document)' : out;
}

const show = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(value));

/** A zod issue as `(path, problem)`, in words an operator editing the file can act on. */
export function describeIssue(issue: z.core.$ZodIssue): { path: Path; message: string }[] {
  const path = issue.path.filter((k): k is PathKey => typeof k !== 'symbol');
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_value': {
      const expected = issue.values.length === 1 ? show(issue.values[0]) : `one of ${issue.values.map(String).join('|')}`;
      return [{ path, message: `expected ${expected}${input === undefined ? '' : `, got ${show(input)}`}` }];
    }
    case 'invalid_type':
      if (input === undefined) return [{ path, message: `required (${issue.expected})` }];
      return [{ path, message: `expected ${issue.expected}, got ${Array.isArray(input) ? 'array' : input === null ? 'null' : typeof input}` }];
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...path, key], message: 'unknown field' }));
    case 'invalid_union':
      return [{ path, message: issue.message.replace(/^Invalid input: ?/, '') || 'matches none of the allowed shapes' }];
    default:
      return [{ path, message: issue.message.replace(/^Invalid input: /, '') }];
  }
}

/** The line of the deepest node on `path` that exists (a missing key points at its parent). */
export function lineAt(doc: Document, lines: LineCounter, path: Path): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}
