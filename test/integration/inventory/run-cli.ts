import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runToExit } from '../../helpers/run.ts';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Run `npm run cli -- ...` the way an operator does (tsx on cli.ts), in a scratch directory. */
export function cli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runToExit(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'cli.ts'), ...args], { cwd, env: { ...process.env, GS_LOG_LEVEL: 'silent', ...env } });
}
