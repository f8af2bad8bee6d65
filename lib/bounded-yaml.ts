import { LineCounter, parseDocument, type Document } from 'yaml';

/**
 * Limits for YAML and JSON documents from outside (inventory uploads, config files). The
 * yaml library's parser is superlinear in nesting: 100,000 `[` took 4.7 s and a 2 MB
 * document of them exhausted the heap; 2,000 lines each indented one more took 0.8 s. A
 * linear scan refuses such documents before the parser sees them. Real documents nest
 * about 10 deep (the inventory: district → sub-district → community → zone → windows).
 */
export interface DocumentLimits {
  maxBytes: number;
  /** Nesting of collections (block and flow together). */
  maxDepth: number;
  /** Alias nodes (`*name`) in the document; each may expand to its anchor's whole subtree. */
  maxAliases: number;
}

export const DEFAULT_DOCUMENT_LIMITS: DocumentLimits = { maxBytes: 1024 * 1024, maxDepth: 64, maxAliases: 100 };

/** Why a document was refused before parsing; `line` where the scan stopped. */
export interface LimitProblem { code: 'too_large' | 'too_deep' | 'too_many_aliases'; message: string; line?: number }

const isBlank = (c: string | undefined): boolean => c === undefined || c === ' ' || c === '\t' || c === '\n' || c === '\r';

/**
 * One pass over YAML text that over-estimates its nesting: every indentation deeper than
 * the enclosing one, every compact `- `/`? `/`: ` indicator at a line's start and every
 * flow bracket counts a level. Quoted scalars, comments and block scalars (`|`, `>`) are
 * skipped. An over-estimate only refuses what nobody writes by hand (64 levels).
 */
export function scanYaml(text: string, limits: Pick<DocumentLimits, 'maxDepth' | 'maxAliases'>): LimitProblem | undefined {
  const n = text.length;
  const indents: number[] = [];
  let i = 0;
  let line = 1;
  let flow = 0;
  let aliases = 0;
  let blockScalarParent = -1; // the indentation a block scalar's content lines are deeper than
  const tooDeep = (): LimitProblem => ({ code: 'too_deep', message: `nested more than ${limits.maxDepth} levels deep`, line });
  const skipToEol = (): void => {
    while (i < n && text[i] !== '\n') i++;
  };
  const skipQuoted = (quote: string): void => {
    i++;
    while (i < n) {
      const c = text[i];
      if (c === '\n') line++;
      if (quote === '"' && c === '\\') i += 2;
      else if (c === quote && quote === "'" && text[i + 1] === "'") i += 2;
      else if (c === quote) {
        i++;
        return;
      } else i++;
    }
  };

  while (i < n) {
    let col = 0;
    while (text[i] === ' ') {
      i++;
      col++;
    }
    const first = text[i];
    if (first === undefined) break;
    if (first === '\n' || first === '\r') {
      if (first === '\n') line++;
      i++;
      continue;
    }
    if (blockScalarParent >= 0 && flow === 0) {
      if (col > blockScalarParent) {
        skipToEol();
        continue;
      }
      blockScalarParent = -1;
    }
    const lineIndent = col;
    if (first !== '#' && flow === 0) {
      while (indents.length > 0 && (indents[indents.length - 1] as number) >= col) indents.pop();
      indents.push(col);
      while ((text[i] === '-' || text[i] === '?' || text[i] === ':') && isBlank(text[i + 1])) {
        i++;
        col++;
        while (text[i] === ' ') {
          i++;
          col++;
        }
        indents.push(col);
        if (indents.length > limits.maxDepth) return tooDeep();
      }
      if (indents.length > limits.maxDepth) return tooDeep();
    }
    let scalarStart = true;
    while (i < n && text[i] !== '\n') {
      const c = text[i] as string;
      const prev = text[i - 1];
      if (c === '#' && (prev === ' ' || prev === '\t' || prev === '\n' || i === 0)) {
        skipToEol();
        break;
      }
      if ((c === '"' || c === "'") && scalarStart) {
        skipQuoted(c);
        scalarStart = false;
        continue;
      }
      if ((c === '[' || c === '{') && (flow > 0 || scalarStart)) {
        flow++;
        if (indents.length + flow > limits.maxDepth) return tooDeep();
        i++;
        continue;
      }
      if ((c === ']' || c === '}') && flow > 0) {
        flow--;
        scalarStart = false;
        i++;
        continue;
      }
      if ((c === ',' && flow > 0) || (c === ':' && (isBlank(text[i + 1]) || flow > 0))) {
        scalarStart = true;
        i++;
        continue;
      }
      if (c === ' ' || c === '\t' || c === '\r') {
        i++;
        continue;
      }
      if (scalarStart && c === '*' && ++aliases > limits.maxAliases) {
        return { code: 'too_many_aliases', message: `more than ${limits.maxAliases} aliases`, line };
      }
      if (scalarStart && flow === 0 && (c === '|' || c === '>')) {
        blockScalarParent = lineIndent;
        skipToEol();
        break;
      }
      if (scalarStart && (c === '&' || c === '!' || c === '*')) { // an anchor or tag comes before its node; an alias is the node
        while (i < n && !isBlank(text[i]) && text[i] !== ',' && text[i] !== ']' && text[i] !== '}') i++;
        continue;
      }
      scalarStart = false;
      i++;
    }
  }
  return undefined;
}

/** The nesting of JSON text, in one pass; strings skipped. */
export function scanJson(text: string, maxDepth: number): LimitProblem | undefined {
  let depth = 0;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) { // "
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) { // [ {
      if (++depth > maxDepth) return { code: 'too_deep', message: `nested more than ${maxDepth} levels deep`, line };
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if (c === 0x0a) line++;
  }
  return undefined;
}

export const byteLength = (text: string): number => Buffer.byteLength(text, 'utf8');

export function checkSize(text: string, maxBytes: number): LimitProblem | undefined {
  // A string of n UTF-16 units is at most 3n UTF-8 bytes and at least n: measure only when in doubt.
  if (text.length <= maxBytes / 3) return undefined;
  const bytes = text.length > maxBytes ? text.length : byteLength(text);
  return bytes > maxBytes ? { code: 'too_large', message: `${bytes} bytes, over the limit of ${maxBytes}` } : undefined;
}

export type BoundedDocument = { ok: true; doc: Document; lines: LineCounter } | { ok: false; problem: LimitProblem };

/** Parse YAML (or JSON, a subset) within `limits`: size, then nesting and aliases, then the parser. */
export function parseBoundedYaml(text: string, limits: DocumentLimits = DEFAULT_DOCUMENT_LIMITS): BoundedDocument {
  const problem = checkSize(text, limits.maxBytes) ?? scanYaml(text, limits);
  if (problem) return { ok: false, problem };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  return { ok: true, doc, lines };
}

/** A YAML or JSON config file's value within the limits; throws a readable error otherwise (boot only). */
export function parseBoundedConfig(text: string, file: string, limits: DocumentLimits = DEFAULT_DOCUMENT_LIMITS): unknown {
  const parsed = parseBoundedYaml(text, limits);
  if (!parsed.ok) throw new Error(`${file}${parsed.problem.line ? `:${parsed.problem.line}` : ''}: ${parsed.problem.message}`);
  const [error] = parsed.doc.errors;
  if (error) throw new Error(`${file}:${parsed.lines.linePos(error.pos[0]).line}: ${error.message.split('\n')[0] ?? error.code}`);
  return parsed.doc.toJS({ maxAliasCount: limits.maxAliases });
}
