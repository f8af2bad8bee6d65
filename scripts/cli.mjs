// `npm run cli`: the operator CLI, started the cheapest way that runs the current code.
//
// The compiled CLI (dist/cli.js, from `npm run build`) starts in about a fifth of the time
// tsx takes (`tsx cli.ts` spawned a second node process and compiled ~100 modules on every
// run: ~6 s of a 10 s city import on a loaded host). It is used only when it is at least as
// new as every source file it was built from; otherwise the TypeScript runs through tsx, in
// this process (no second node), with a one-line hint on stderr when a stale build exists.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Not part of the build (tsconfig.build.json), or not source at all. */
const SKIP = new Set(['node_modules', 'dist', 'test', 'bench', 'data', 'docs', 'scratch', 'coverage']);
/** What the build compiles or copies (scripts/copy-build-assets.mjs): TypeScript, migrations, CommonJS preloads, profiles. */
const SOURCE = /\.(ts|sql|cjs|yaml)$/;

/** The newest modification time (ms) of any build input under `dir`, stopping early once one passes `than`. */
export function newestSource(dir, than = Infinity) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name) || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path, than));
    else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    if (newest > than) return newest;
  }
  return newest;
}

/** Which entry runs the CLI in `root`: the build when it is current, else the TypeScript (and whether a build was passed over as stale). */
export function chooseEntry(root) {
  const built = join(root, 'dist', 'cli.js');
  if (!existsSync(built)) return { entry: join(root, 'cli.ts'), compiled: false, stale: false };
  const builtAt = statSync(built).mtimeMs;
  if (newestSource(root, builtAt) > builtAt) return { entry: join(root, 'cli.ts'), compiled: false, stale: true };
  return { entry: built, compiled: true, stale: false };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const choice = chooseEntry(ROOT);
  if (!choice.compiled) {
    if (choice.stale) process.stderr.write('dist/ is older than the sources: running the TypeScript (`npm run build` makes the CLI start faster) / dist/ 比源码旧，改用 TypeScript 运行\n');
    const { register } = await import('tsx/esm/api');
    register();
  }
  await import(pathToFileURL(choice.entry).href);
}
