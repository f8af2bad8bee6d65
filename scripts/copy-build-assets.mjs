// After tsc (`npm run build`): copy what the compiled service reads at run time beside its
// .js files, and mark the output as ES modules. Run as: node scripts/copy-build-assets.mjs <outDir>
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'dist'));
/** Run-time files that are not TypeScript: migrations, the thread-pool preload (CommonJS), the shipped device profiles. */
const ASSETS = [/^registry\/migrations\/.+\.sql$/, /^config\/.+\.cjs$/, /^ingest\/profiles\/.+\.yaml$/];
const SKIP = new Set(['node_modules', 'dist', 'test', '.git', 'data']);

function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name) || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (ASSETS.some((re) => re.test(relative(root, path)))) {
      const target = join(out, relative(root, path));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(path, target);
    }
  }
}
walk(root);
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'module', private: true }, null, 2)}\n`);
