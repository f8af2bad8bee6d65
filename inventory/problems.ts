import type { InventoryProblem } from '../contracts/inventory.ts';

export { describeIssue, formatPath, lineAt, type Path, type PathKey } from '../lib/document-problems.ts';
import { formatPath, type Path } from '../lib/document-problems.ts';

export const problem = (file: string, path: Path, message: string, line?: number): InventoryProblem =>
  (line === undefined ? { file, path: formatPath(path), message } : { file, path: formatPath(path), message, line });

/** `city.yaml:42: districts[1].name: expected a non-empty name` */
export const formatProblem = (p: InventoryProblem): string =>
  `${p.file}${p.line === undefined ? '' : `:${p.line}`}: ${p.path}: ${p.message}`;
