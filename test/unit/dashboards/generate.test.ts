import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DASHBOARDS_ROOT, GENERATED_DIR, PROVISIONING_DIR, renderFiles, writeFiles } from '../../../dashboards/generate.ts';

function listFiles(root: string, dir: string): string[] {
  const full = join(root, dir);
  return readdirSync(full).flatMap((name) => {
    const path = join(full, name);
    return statSync(path).isDirectory() ? listFiles(root, relative(root, path)) : [relative(root, path)];
  });
}

describe('npm run dashboards', () => {
  const out = mkdtempSync(join(tmpdir(), 'gs-dashboards-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const written = writeFiles(out);

  it('writes six dashboards and two provisioning files', () => {
    expect(written.filter((p) => p.startsWith(GENERATED_DIR)).length).toBe(6);
    expect(written.filter((p) => p.startsWith(PROVISIONING_DIR)).sort()).toEqual([join(PROVISIONING_DIR, 'dashboards', 'greenspace.yaml'), join(PROVISIONING_DIR, 'datasources', 'greenspace.yaml')]);
  });

  it.each(written.map((p) => [p]))('regenerates %s exactly as committed (run `npm run dashboards` and commit if this fails)', (path) => {
    expect(readFileSync(join(out, path), 'utf8')).toBe(readFileSync(join(DASHBOARDS_ROOT, path), 'utf8'));
  });

  it('leaves no committed file that the generator no longer produces', () => {
    const committed = [...listFiles(DASHBOARDS_ROOT, GENERATED_DIR), ...listFiles(DASHBOARDS_ROOT, PROVISIONING_DIR)].sort();
    expect(committed).toEqual([...renderFiles().keys()].sort());
  });

  it('is deterministic', () => {
    expect([...renderFiles()]).toEqual([...renderFiles()]);
  });
});
