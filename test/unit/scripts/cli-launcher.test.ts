import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error a plain .mjs script (npm run cli), without type declarations
import { chooseEntry } from '../../../scripts/cli.mjs';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A checkout in a temp directory: each file written with its modification time (s since the epoch). */
function checkout(files: Record<string, number>): string {
  const root = mkdtempSync(join(tmpdir(), 'gs-cli-launcher-'));
  dirs.push(root);
  for (const [path, mtime] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), '');
    utimesSync(join(root, path), mtime, mtime);
  }
  return root;
}

describe('npm run cli: which entry runs', () => {
  it('runs the TypeScript when nothing is built', () => {
    const root = checkout({ 'cli.ts': 100, 'registry/db.ts': 100 });
    expect(chooseEntry(root)).toEqual({ entry: join(root, 'cli.ts'), compiled: false, stale: false });
  });

  it('runs the build when it is newer than every source file', () => {
    const root = checkout({ 'cli.ts': 100, 'registry/db.ts': 100, 'registry/migrations/001.sql': 100, 'dist/cli.js': 200 });
    expect(chooseEntry(root)).toEqual({ entry: join(root, 'dist', 'cli.js'), compiled: true, stale: false });
  });

  it.each(['registry/db.ts', 'registry/migrations/002.sql', 'config/threadpool-preload.cjs', 'ingest/profiles/x.yaml'])(
    'runs the TypeScript when %s changed after the build (a stale build is never run)',
    (changed) => {
      const root = checkout({ 'cli.ts': 100, 'dist/cli.js': 200, [changed]: 300 });
      expect(chooseEntry(root)).toEqual({ entry: join(root, 'cli.ts'), compiled: false, stale: true });
    },
  );

  it('ignores what the build does not contain: tests, benchmarks, docs, node_modules', () => {
    const root = checkout({ 'cli.ts': 100, 'dist/cli.js': 200, 'test/a.test.ts': 300, 'bench/run.ts': 300, 'README.md': 300, 'node_modules/x/index.ts': 300 });
    expect(chooseEntry(root).compiled).toBe(true);
  });
});
