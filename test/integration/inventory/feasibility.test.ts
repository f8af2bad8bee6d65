import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../helpers/app.ts';
import { cli, ROOT } from './run-cli.ts';

const INFEASIBLE = join(ROOT, 'test/fixtures/inventory/infeasible-bands.yaml');
const UNDERSIZED = join(ROOT, 'test/fixtures/inventory/undersized-valve.yaml');
const Z = 'districts[0].subDistricts[0].communities[0].zones';
const SAND_LOW = "区间下限 14 % 高于砂土的田间持水量 12 %（数小时内就会排水降到其下）：请把下限调到 12 % 以下，或更正土壤类型 / low 14 % is above sand's field capacity 12 % (the soil drains below it within hours): lower the band's low under 12 %, or change the soil";
const VALVE = "the valve's 10 L/min for the 240 min a day its windows allow gives 2400 L, a hot day takes 13300 L (Kc 0.95 × 7 mm × 2000 m²): raise the flow to 56 L/min, widen the windows, or split the zone";

// Each CLI run compiles cli.ts with tsx in a child process: seconds apiece on a busy machine.
describe('a zone its soil or valve cannot serve, through the CLI', { timeout: 180_000 }, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gs-feasible-'));
    mkdirSync(join(dir, 'data'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('check and import refuse a band the soil cannot hold, exit 1, and write nothing', async () => {
    const check = await cli(['inventory', 'check', INFEASIBLE], dir);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(`${INFEASIBLE}:19: ${Z}[0].band.low: ${SAND_LOW}\n`);
    const run = await cli(['inventory', 'import', INFEASIBLE, '--data-dir', join(dir, 'data'), '--credentials', join(dir, 'c.csv')], dir);
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(4);
    expect(run.stdout).toBe('');
  });

  it('imports a zone whose valve is too small, printing the warning on stderr, and exits 0', async () => {
    const run = await cli(['inventory', 'import', UNDERSIZED, '--data-dir', join(dir, 'data'), '--credentials', join(dir, 'c2.csv')], dir);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`${UNDERSIZED}:19: ${Z}[0].flowLpm: warning: ${VALVE}\n`);
    expect(run.stdout).toContain('imported: ');
  });
});

describe('a zone its soil or valve cannot serve, through PUT /api/v1/inventory', () => {
  let t: TestApp;
  const put = (file: string) => t.app.api.inject({
    method: 'PUT', url: '/api/v1/inventory', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/yaml' }, payload: readFileSync(file, 'utf8'),
  });
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.stop());

  it('answers 400 with every band the soil cannot hold, by path, line and what to change', async () => {
    const res = await put(INFEASIBLE);
    expect(res.statusCode).toBe(400);
    const body = res.json() as { error: string; message: string; issues: unknown[] };
    expect(body).toMatchObject({ error: 'bad_request', message: 'invalid inventory' });
    expect(body.issues).toEqual([
      { path: `${Z}[0].band.low`, line: 19, message: SAND_LOW },
      { path: `${Z}[1].band.low`, line: 26, message: "区间下限 12 % 等于砂土的田间持水量 12 %（数小时内就会排水降到其下）：请把下限调到 12 % 以下，或更正土壤类型 / low 12 % is at sand's field capacity 12 % (the soil drains below it within hours): lower the band's low under 12 %, or change the soil" },
      { path: `${Z}[2].band.high`, line: 33, message: "区间上限 50 % 高于壤土的饱和含水量 45 %（壤土存不住这么多水）：请把上限调到 45 % 或以下，或更正土壤类型 / high 50 % is above loam's saturation 45 % (no loam holds that much water): lower the band's high to 45 % or less, or change the soil" },
      { path: `${Z}[3].band.low`, line: 40, message: "区间下限 17 % 低于黏土的凋萎点 22 %（植物在开始浇水前就会萎蔫）：请把下限调到 22 % 以上，或更正土壤类型 / low 17 % is below clay's wilting point 22 % (plants wilt before watering starts): raise the band's low above 22 %, or change the soil" },
    ]);
    const zone = await t.app.api.inject({ method: 'GET', url: '/api/v1/zones/z-fine/irrigation', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(zone.statusCode).toBe(404); // nothing of the file was imported
  });

  it('imports a zone whose valve is too small and returns the warning beside the report', async () => {
    const res = await put(UNDERSIZED);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { report: { totals: { inserted: number } }; warnings: unknown[] };
    expect(body.report.totals.inserted).toBeGreaterThan(0);
    expect(body.warnings).toEqual([{ path: `${Z}[0].flowLpm`, line: 19, message: VALVE }]);
  });
});
