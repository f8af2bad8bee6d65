import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireDataDirLock, LOCK_FILE, readDataDirLock } from '../../../lib/data-dir-lock.ts';

/** Another live process, and its lock as it would have written it. */
const procStart = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)!.split(' ')[19];
const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

describe('data directory lock', () => {
  let dir: string;
  let other: ChildProcess;
  const lockOf = (fields: Record<string, unknown>) => writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ holder: 'server', since: '2026-12-07T00:00:00.000Z', ...fields }));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gs-lock-'));
    other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    await new Promise((resolveSpawn) => other.once('spawn', resolveSpawn));
  });
  afterAll(() => {
    other.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is taken, read back with its URL, and released', () => {
    const lock = acquireDataDirLock(dir, 'server');
    lock.setUrl('http://127.0.0.1:3000');
    expect(readDataDirLock(dir)).toMatchObject({ pid: process.pid, holder: 'server', url: 'http://127.0.0.1:3000' });
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    expect(readDataDirLock(dir)).toBeUndefined();
  });

  it('refuses a directory another live process holds, naming it', () => {
    const pid = other.pid!;
    lockOf({ pid, url: 'http://127.0.0.1:3999', bootId: bootId(), procStart: procStart(pid) });
    expect(readDataDirLock(dir)).toMatchObject({ pid });
    expect(() => acquireDataDirLock(dir, 'cli inventory import')).toThrow(expect.objectContaining({
      code: 'data_dir_held', message: expect.stringMatching(new RegExp(`^data directory .* is in use by pid ${pid} \\(server, http://127\\.0\\.0\\.1:3999\\) since `)),
    }));
  });

  it.each([
    ['a dead pid', () => ({ pid: 2 ** 22 + 17 })],
    ['a reused pid (another start time)', () => ({ pid: other.pid!, bootId: bootId(), procStart: '1' })],
    ['another boot', () => ({ pid: other.pid!, bootId: '00000000-0000-0000-0000-000000000000', procStart: procStart(other.pid!) })],
    ['an unreadable file', () => ({ pid: 'x' })],
  ])('treats %s as stale and takes it over', (_name, fields) => {
    lockOf(fields());
    expect(readDataDirLock(dir)).toBeUndefined();
    const lock = acquireDataDirLock(dir, 'server');
    expect(readDataDirLock(dir)).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it('does not remove a lock that is no longer its own', () => {
    const lock = acquireDataDirLock(dir, 'server');
    lockOf({ pid: other.pid!, bootId: bootId(), procStart: procStart(other.pid!) });
    lock.release();
    expect(readDataDirLock(dir)).toMatchObject({ pid: other.pid });
    rmSync(join(dir, LOCK_FILE));
  });

  it('lets exactly one of several processes take over a stale lock at the same moment', async () => {
    lockOf({ pid: 2 ** 22 + 17 }); // stale: every racer sees it as free
    const go = join(dir, 'go');
    // Each racer waits for the same file, then takes the lock, says whether it won, and holds
    // it a moment so a loser that reads late sees a live holder rather than a free directory.
    const racer = `
      import { existsSync } from 'node:fs';
      import { acquireDataDirLock } from ${JSON.stringify(new URL('../../../lib/data-dir-lock.ts', import.meta.url).pathname)};
      console.log('ready');
      while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 1));
      try { acquireDataDirLock(${JSON.stringify(dir)}, 'racer'); console.log('won'); await new Promise((r) => setTimeout(r, 1500)); }
      catch (error) { console.log(error.code); }`;
    const racers = Array.from({ length: 6 }, () => spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', racer], { stdio: ['ignore', 'pipe', 'inherit'] }));
    const ready: Array<Promise<void>> = [];
    const outputs = racers.map((child) => {
      let out = '';
      ready.push(new Promise((resolveReady) => child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk;
        if (out.startsWith('ready\n')) resolveReady();
      })));
      return new Promise<string>((resolveOutput) => child.once('exit', () => resolveOutput(out.replace('ready\n', '').trim())));
    });
    await Promise.all(ready); // every racer loaded and polling
    writeFileSync(go, '');
    const said = (await Promise.all(outputs)).sort();
    expect(said).toEqual(['data_dir_held', 'data_dir_held', 'data_dir_held', 'data_dir_held', 'data_dir_held', 'won']);
    rmSync(go);
  }, 120_000); // six processes loading tsx: seconds when the machine is quiet, tens of seconds when it is not
});
