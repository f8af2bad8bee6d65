import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** In a fresh process (mqtt-packet loads once per process): import `entry`, then say which loggers were quieted. */
function quietedAfter(entry: string, env: NodeJS.ProcessEnv = {}): string[] {
  const script = `await import(${JSON.stringify(join(ROOT, entry))}); const q = await import(${JSON.stringify(join(ROOT, 'broker/quiet-packet-debug.ts'))}); console.log(JSON.stringify(q.quietedNamespaces()));`;
  const { DEBUG: _debug, ...rest } = process.env;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { ...rest, ...env }, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as string[];
}

describe("mqtt-packet's debug loggers", () => {
  it.each(['app.ts', 'bench/ceiling.ts'])('are no-ops in the import order of %s', (entry) => {
    expect(quietedAfter(entry)).toEqual(['mqtt-packet:parser', 'mqtt-packet:writeToStream']);
  });

  // Other packages keep the whole `debug` API: settings written to the module (`debug.log`,
  // debug's documented way to redirect output) apply, and what enable() sets reads back.
  it("leave every other package's debug settings working", () => {
    const script = `await import(${JSON.stringify(join(ROOT, 'broker/quiet-packet-debug.ts'))});
      const { createRequire } = await import('node:module');
      const require = createRequire(${JSON.stringify(join(ROOT, 'node_modules', 'mqtt-packet', 'parser.js'))});
      const debug = require('debug');
      const lines = [];
      debug.log = (...args) => lines.push(args.join(' '));
      debug.enable('gs-test:*');
      debug('gs-test:a')('hello');
      console.log(JSON.stringify({ lines: lines.length, namespaces: debug.namespaces, names: debug.names.map(String) }));`;
    const { DEBUG: _debug, ...env } = process.env;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ lines: 1, namespaces: 'gs-test:*', names: ['gs-test:*'] });
  });

  it('stay real when DEBUG names them at start', () => {
    expect(quietedAfter('app.ts', { DEBUG: 'mqtt-packet:*' })).toEqual([]);
  });
});
