import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** A server binary: the configured path when it exists, else `name` on PATH (as Debian's packages install it), else undefined. */
export function findBinary(name: string, configured?: string): string | undefined {
  if (configured) return existsSync(configured) ? configured : undefined;
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path ? path : undefined;
}
