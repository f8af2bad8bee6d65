import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { openDb } from '../../../registry/db.ts';
import { createDeviceRegistry } from '../../../registry/devices.ts';
import { cli, ROOT } from './run-cli.ts';
import { loadCredentialHasher } from '../../../registry/secrets.ts';

const DEMO = join(ROOT, 'inventory/examples/demo.yaml');

// Each CLI run compiles cli.ts with tsx in a child process: seconds apiece on a busy machine.
describe('npm run cli -- inventory', { timeout: 180_000 }, () => {
  let dir: string;
  const data = () => join(dir, 'data');
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gs-cli-'));
    mkdirSync(data()); // the CLI refuses a data directory that does not exist (cli-safety.test.ts)
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports a file and writes the new secrets to a 0600 credentials file that authenticates', async () => {
    const creds = join(dir, 'creds.csv');
    const run = await cli(['inventory', 'import', DEMO, '--data-dir', data(), '--credentials', creds], dir);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('imported: 36 inserted, 0 updated, 0 retired, 0 deleted (36 rows written)');
    expect(statSync(creds).mode & 0o777).toBe(0o600);
    const lines = readFileSync(creds, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('device_id,secret');
    expect(lines).toHaveLength(17);
    const [id, secret] = lines[1]!.split(',') as [string, string];
    const db = openDb(join(data(), 'greenspace.db'));
    try {
      // Hashed under the data directory's own credential key, which the server will read there.
      expect(await createDeviceRegistry(db, { hasher: loadCredentialHasher(data()) }).authenticate(id, secret)).toMatchObject({ id });
      expect((db.prepare('SELECT secret_hash FROM devices WHERE id = ?').get(id) as { secret_hash: string }).secret_hash).toMatch(/^hmac-sha256\$v1\$[0-9a-f]{64}$/);
    } finally {
      db.close();
    }
  });

  it('hashes under GS_CREDENTIAL_KEY_FILE when it is set (the key every node of a cluster has), generating no key of the data directory\'s own', async () => {
    const keyed = join(dir, 'keyed');
    mkdirSync(keyed);
    const keyFile = join(dir, 'cluster-key');
    writeFileSync(keyFile, `${'5a'.repeat(32)}\n`, { mode: 0o600 });
    const creds = join(dir, 'creds-keyed.csv');
    const run = await cli(['inventory', 'import', DEMO, '--data-dir', keyed, '--credentials', creds], dir, { GS_CREDENTIAL_KEY_FILE: keyFile });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const [id, secret] = readFileSync(creds, 'utf8').trim().split('\n')[1]!.split(',') as [string, string];
    expect(existsSync(join(keyed, 'credential-key'))).toBe(false);
    const db = openDb(join(keyed, 'greenspace.db'));
    try {
      expect(await createDeviceRegistry(db, { hasher: loadCredentialHasher(keyed, undefined, keyFile) }).authenticate(id, secret)).toMatchObject({ id });
    } finally {
      db.close();
    }
  });

  it('re-imports the same file as a no-op and leaves no credentials file behind', async () => {
    const creds = join(dir, 'creds-again.csv');
    const run = await cli(['inventory', 'import', DEMO, '--data-dir', data(), '--credentials', creds], dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('imported: 0 inserted, 0 updated, 0 retired, 0 deleted (0 rows written)');
    expect(existsSync(creds)).toBe(false);
  });

  it('refuses to overwrite a credentials file, before importing anything', async () => {
    const doc = parse(readFileSync(DEMO, 'utf8')) as { districts: Array<{ subDistricts: Array<{ communities: Array<{ devices: unknown[] }> }> }> };
    doc.districts[0]!.subDistricts[0]!.communities[1]!.devices.push({ id: 'demo-heping-rain', kind: 'rain' });
    const file = join(dir, 'more.yaml');
    writeFileSync(file, stringify(doc));
    const existing = join(dir, 'existing.csv');
    writeFileSync(existing, 'device_id,secret\nold,secret\n');
    const run = await cli(['inventory', 'import', file, '--data-dir', data(), '--credentials', existing], dir);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('already exists: secrets are never overwritten');
    expect(readFileSync(existing, 'utf8')).toBe('device_id,secret\nold,secret\n');
    const dry = await cli(['inventory', 'import', file, '--data-dir', data(), '--dry-run'], dir);
    expect(dry.stdout).toContain('would change: 1 inserted, 0 updated');
  });

  it('exports the registry to a file (YAML or JSON), the same as to stdout, and either imports as a no-op', async () => {
    const out = join(dir, 'export.yaml');
    expect((await cli(['inventory', 'export', out, '--data-dir', data()], dir)).code).toBe(0);
    const stdout = await cli(['inventory', 'export', '--data-dir', data()], dir);
    expect(readFileSync(out, 'utf8')).toBe(stdout.stdout);
    const again = await cli(['inventory', 'import', out, '--data-dir', data()], dir);
    expect(again.stdout).toContain('(0 rows written)');
    const json = join(dir, 'export.json');
    expect((await cli(['inventory', 'export', json, '--data-dir', data()], dir)).code).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual(parse(stdout.stdout));
    expect((await cli(['inventory', 'import', json, '--data-dir', data()], dir)).stdout).toContain('(0 rows written)');
  });

  it('names the file, the line, the path and the problem of a broken inventory, and exits 1', async () => {
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, readFileSync(DEMO, 'utf8').replace('plant: hedge', 'plant: hedges'));
    const run = await cli(['inventory', 'check', broken], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/broken\.yaml:\d+: districts\[0\]\.subDistricts\[0\]\.communities\[1\]\.zones\[0\]\.plant: expected one of trees\|shrubs\|hedge\|ground_cover\|lawn, got "hedges"/);
  });
});
