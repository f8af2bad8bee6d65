import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../../registry/db.ts';
import { defaultCredentialsPath } from '../../../inventory/files.ts';
import { LOCK_FILE } from '../../../lib/data-dir-lock.ts';
import { ADMIN_TOKEN, startTestApp } from '../../helpers/app.ts';
import { cli, ROOT } from './run-cli.ts';

const DEMO = join(ROOT, 'inventory/examples/demo.yaml');

const deviceCount = (dataDir: string): number => {
  const db = openDb(join(dataDir, 'greenspace.db'));
  try {
    return (db.prepare('SELECT count(*) AS n FROM devices').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

// Each CLI run compiles cli.ts with tsx in a child process: seconds apiece on a busy machine.
describe('the CLI is safe to use on a live system', { timeout: 180_000 }, () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'gs-cli-safe-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a data directory that does not exist instead of creating an empty registry', async () => {
    const missing = join(dir, 'dta'); // a typo of "data"
    const imported = await cli(['inventory', 'import', DEMO, '--data-dir', missing, '--credentials', join(dir, 'never.csv')], dir);
    expect(imported.code).toBe(1);
    expect(imported.stderr).toBe(`data directory ${missing} (--data-dir) does not exist: check the path; the server creates it at its first start\n`);
    const exported = await cli(['inventory', 'export', '--data-dir', missing], dir);
    expect(exported).toMatchObject({ code: 1, stdout: '' });
    expect(exported.stderr).toContain(`data directory ${missing} (--data-dir) does not exist`);
    const viaEnv = await cli(['inventory', 'export'], dir); // GS_DATA_DIR unset: ./data under the scratch dir
    expect(viaEnv.stderr).toContain(`data directory ${join(dir, 'data')} (the default ./data) does not exist`);
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(join(dir, 'never.csv'))).toBe(false);
  });

  it('exports only from a directory holding a registry; a dry run before the first import creates nothing', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const exported = await cli(['inventory', 'export', '--data-dir', empty], dir);
    expect(exported.code).toBe(1);
    expect(exported.stderr).toBe(`no registry in ${empty} (--data-dir): greenspace.db is missing; check the path\n`);
    const dry = await cli(['inventory', 'import', DEMO, '--data-dir', empty, '--dry-run'], dir);
    expect(dry).toMatchObject({ code: 0, stderr: '' });
    expect(dry.stdout).toContain('would change: 36 inserted');
    expect(readdirSync(empty)).toEqual([]);
  });

  it('refuses to write under a running server, points to its API, and writes once it stopped', async () => {
    const dataDir = join(dir, 'live');
    const t = await startTestApp({}, { dataDir });
    try {
      const creds = join(dir, 'live.csv');
      const run = await cli(['inventory', 'import', DEMO, '--data-dir', dataDir, '--credentials', creds], dir);
      expect(run.code).toBe(1);
      const url = `http://127.0.0.1:${t.app.httpPort}`;
      expect(run.stderr).toMatch(new RegExp(`^data directory ${dataDir} is in use by pid ${process.pid} \\(server, ${url}\\) since \\S+; not writing under it\\n`
        + `write through it instead: npm run cli -- inventory import ${DEMO} --url ${url} \\(admin token: --token or GS_ADMIN_TOKEN\\)\\n$`));
      expect(existsSync(creds)).toBe(false);
      expect(deviceCount(dataDir)).toBe(0);
      // Reading is fine while it runs; and the suggested command works.
      expect((await cli(['inventory', 'import', DEMO, '--data-dir', dataDir, '--dry-run'], dir)).stdout).toContain('would change: 36 inserted');
      expect((await cli(['inventory', 'export', '--data-dir', dataDir], dir)).code).toBe(0);
      const remote = await cli(['inventory', 'import', DEMO, '--url', url, '--token', ADMIN_TOKEN, '--credentials', creds], dir);
      expect(remote.code).toBe(0);
      expect(t.app.devices.get('demo-xingfu-z1-soil1')).toBeDefined();
    } finally {
      await t.stop();
    }
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
    const again = await cli(['inventory', 'import', DEMO, '--data-dir', dataDir], dir);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toContain('(0 rows written)');
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false); // the CLI released its own hold
  });

  it('writes secrets to a 0600 file by default (git-ignored), and to the screen only when asked', async () => {
    const dataDir = join(dir, 'secrets');
    mkdirSync(dataDir);
    const run = await cli(['inventory', 'import', DEMO, '--data-dir', dataDir], dir);
    expect(run.code).toBe(0);
    const [file] = readdirSync(dir).filter((f) => /^demo-credentials-\d{8}T\d{6}\.csv$/.test(f));
    expect(file).toBeDefined();
    expect(statSync(join(dir, file!)).mode & 0o777).toBe(0o600);
    const secrets = readFileSync(join(dir, file!), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[1]!);
    expect(secrets).toHaveLength(16);
    for (const secret of secrets) expect(run.stdout + run.stderr).not.toContain(secret); // no secret on the screen

    const filesBefore = readdirSync(dir).sort();
    const asked = join(dir, 'asked');
    mkdirSync(asked);
    const printed = await cli(['inventory', 'import', DEMO, '--data-dir', asked, '--credentials', '-'], dir);
    expect(printed.code).toBe(0);
    const lines = printed.stdout.trim().split('\n');
    expect(lines[0]).toBe('device_id,secret');
    expect(lines).toHaveLength(17); // the CSV alone on stdout, so it can be piped
    expect(printed.stderr).toContain('imported: 36 inserted');
    expect(readdirSync(dir)).toEqual([...filesBefore, 'asked'].sort()); // no credentials file
  });

  it('keeps a second server off a data directory another process holds', async () => {
    const dataDir = join(dir, 'held');
    mkdirSync(dataDir);
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    await new Promise((resolveSpawn) => other.once('spawn', resolveSpawn));
    try {
      const lock = { pid: other.pid, holder: 'cli inventory import', since: new Date().toISOString() };
      writeFileSync(join(dataDir, LOCK_FILE), JSON.stringify(lock));
      await expect(startTestApp({}, { dataDir })).rejects.toThrow(`data directory ${dataDir} is in use by pid ${other.pid} (cli inventory import) since`);
      expect(existsSync(join(dataDir, 'greenspace.db'))).toBe(false);
    } finally {
      other.kill();
    }
  });

  it.each([
    defaultCredentialsPath('inventory/examples/city.yaml', new Date()),
    'demo-creds.csv', // README
    'sim-creds.json', 'load-creds.json', // firmware-sim/README.md
    `data/${LOCK_FILE}`,
  ])('keeps %s, which the tools write into the checkout, out of git', (path) => {
    const check = spawnSync('git', ['check-ignore', '--no-index', '-q', path], { cwd: ROOT });
    expect(check.status).toBe(0);
  });
});
