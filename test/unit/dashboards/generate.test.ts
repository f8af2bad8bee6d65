import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { boardOptionsFrom, DASHBOARDS_ROOT, GENERATED_DIR, PROVISIONING_DIR, PROVISIONING_V2_DIR, renderFiles, writeFiles } from '../../../dashboards/generate.ts';

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

  it('writes six dashboards and two provisioning files for each InfluxDB line', () => {
    expect(written.filter((p) => p.startsWith(GENERATED_DIR)).length).toBe(6);
    for (const dir of [PROVISIONING_DIR, PROVISIONING_V2_DIR]) {
      expect(written.filter((p) => p.startsWith(`${dir}/`)).sort()).toEqual([join(dir, 'dashboards', 'greenspace.yaml'), join(dir, 'datasources', 'greenspace.yaml')]);
    }
  });

  it('gives the 2.x datasource the uid the panels name, InfluxQL and token auth', () => {
    const v2 = readFileSync(join(out, PROVISIONING_V2_DIR, 'datasources', 'greenspace.yaml'), 'utf8');
    expect(v2).toMatch(/uid: gs-influxdb\n/);
    expect(v2).toMatch(/version: InfluxQL\n\s+dbName: \$\{GS_INFLUX_DB\}/);
    expect(v2).toContain('httpHeaderValue1: Token ${GS_INFLUX_TOKEN}');
  });

  it.each(written.map((p) => [p]))('regenerates %s exactly as committed (run `npm run dashboards` and commit if this fails)', (path) => {
    expect(readFileSync(join(out, path), 'utf8')).toBe(readFileSync(join(DASHBOARDS_ROOT, path), 'utf8'));
  });

  it('leaves no committed file that the generator no longer produces', () => {
    const committed = [...listFiles(DASHBOARDS_ROOT, GENERATED_DIR), ...listFiles(DASHBOARDS_ROOT, PROVISIONING_DIR), ...listFiles(DASHBOARDS_ROOT, PROVISIONING_V2_DIR)].sort();
    expect(committed).toEqual([...renderFiles().keys()].sort());
  });

  it('is deterministic', () => {
    expect([...renderFiles()]).toEqual([...renderFiles()]);
  });
});

describe('npm run dashboards with a deployment\'s rules config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-dashboards-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The tilt lines (warning, critical) the community board draws on one facility type's series. */
  const tiltLines = (files: Map<string, string>, type: string): number[] => {
    const board = JSON.parse(files.get(join(GENERATED_DIR, 'City', 'community.json'))!) as { panels: Array<{ title?: string; fieldConfig?: { overrides?: Array<{ matcher: { options: string }; properties: Array<{ id: string; value: { steps?: Array<{ value: number | null }> } }> }> } }> };
    const panel = board.panels.find((p) => p.title === 'Facility tilt from baseline')!;
    const override = panel.fieldConfig!.overrides!.find((o) => o.matcher.options === `.*\\(${type}\\)$`)!;
    return override.properties.find((p) => p.id === 'thresholds')!.value.steps!.flatMap((s) => (s.value === null ? [] : [s.value]));
  };

  it('draws the angles GS_RULES_CONFIG gives a facility type, and the defaults for the others', () => {
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, 'facilityHealth:\n  byType:\n    bench: { warningDeg: 1, criticalDeg: 3, hysteresisDeg: 0.3 }\n');
    const configured = renderFiles(boardOptionsFrom({ GS_RULES_CONFIG: file }));
    expect(tiltLines(configured, 'bench')).toEqual([1, 3]);
    expect(tiltLines(configured, 'pavilion')).toEqual([2, 5]);
    expect(tiltLines(renderFiles(), 'bench')).toEqual([5, 10]);
    expect(renderFiles(boardOptionsFrom({}))).toEqual(renderFiles()); // no config: the committed files
  });

  it('refuses a bad rules file with the rules\' own message', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'facilityHealth:\n  byType:\n    pavillion: { warningDeg: 1 }\n');
    expect(() => boardOptionsFrom({ GS_RULES_CONFIG: file })).toThrow(/unknown facility type "pavillion"/);
  });
});
