import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ADMIN_TOKEN, eventually, queryRows, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import type { DeviceCredential, ImportReport } from '../../../contracts/inventory.ts';
import { cli } from './run-cli.ts';
import { formatInventory } from '../../../inventory/export.ts';

const DEMO_TEXT = readFileSync(new URL('../../../inventory/examples/demo.yaml', import.meta.url), 'utf8');
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form edits of a YAML tree
const demo = (): Doc => parse(DEMO_TEXT) as Doc;
const communities = (doc: Doc): Doc[] => doc.districts[0].subDistricts[0].communities;
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
type ImportBody = { report: ImportReport; credentials: DeviceCredential[] };

describe('PUT/GET /api/v1/inventory', () => {
  let t: TestApp;
  let secrets: Map<string, string>;
  const put = (payload: unknown, options: { query?: string; headers?: Record<string, string> } = {}) =>
    t.app.api.inject({ method: 'PUT', url: `/api/v1/inventory${options.query ?? ''}`, headers: { ...auth, ...options.headers }, payload: payload as string });

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.stop());

  it('imports the demo inventory and returns the new devices\' secrets once', async () => {
    const res = await put(demo());
    expect(res.statusCode).toBe(200);
    const body = res.json() as ImportBody;
    expect(body.report.totals).toEqual({ inserted: 36, updated: 0, retired: 0, deleted: 0 });
    expect(body.credentials).toHaveLength(16);
    secrets = new Map(body.credentials.map((c) => [c.deviceId, c.secret]));
  });

  it('lets an imported device publish at once, tagged from the inventory', async () => {
    const id = 'demo-xingfu-z1-soil1';
    const client = await connect(t.app.mqttPort, { clientId: id, username: id, password: secrets.get(id) });
    const ts = Date.now() - 1_000;
    await publish(client, `gs/${id}/up`, JSON.stringify({ ts, seq: 1, moisture: 21.5 }), 1);
    client.end();
    const rows = await eventually(async () => {
      const r = await queryRows(t.influx, `SELECT * FROM soil WHERE device = '${id}'`);
      return r.length > 0 ? r : undefined;
    });
    expect(rows).toEqual([expect.objectContaining({ time: ts, district: 'taobei', community: 'demo-xingfu', zone: 'demo-xingfu-z1', plant: 'lawn', moisture: 21.5 })]);
  });

  it('changes nothing when the same inventory is put again', async () => {
    const body = (await put(demo())).json() as ImportBody;
    expect(body.report.totals).toEqual({ inserted: 0, updated: 0, retired: 0, deleted: 0 });
    expect(body.report.rowsWritten).toBe(0);
    expect(body.credentials).toEqual([]);
  });

  it('exports what it imported, and the export imports as a no-op', async () => {
    const res = await t.app.api.inject({ method: 'GET', url: '/api/v1/inventory', headers: auth });
    expect(res.statusCode).toBe(200);
    const exported = res.json() as Doc;
    expect(communities(exported).map((c) => c.id)).toEqual(['demo-heping', 'demo-xingfu']);
    expect(communities(exported)[1]!.devices.find((d: Doc) => d.id === 'demo-xingfu-z1-soil1')).toMatchObject({ devEui: 'a840410000000011', lorawanApplication: '0b6a3f9e-2c41-4d7a-9e55-7f3c2a1b8d10', profile: 'dragino-se01-lb' });
    // The device names its profile: the ingest reads its uplinks with it.
    expect(t.app.devices.get('demo-xingfu-z1-soil1')?.profile).toBe('dragino-se01-lb');
    expect(exported.teams[0].channels[0].channel).toEqual({ type: 'webhook', url: 'http://127.0.0.1:9099/hooks/greenspace', secret: 'demo-webhook-secret' });
    const again = (await put(exported)).json() as ImportBody;
    expect(again.report.rowsWritten).toBe(0);
  });

  it('exports YAML on request, the same bytes as the CLI writes', async () => {
    const res = await t.app.api.inject({ method: 'GET', url: '/api/v1/inventory', headers: { ...auth, accept: 'application/yaml' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/yaml');
    expect(res.body).toBe(formatInventory(t.app.inventory.exportInventory()));
    expect(parse(res.body)).toEqual((await t.app.api.inject({ method: 'GET', url: '/api/v1/inventory', headers: auth })).json());
  });

  it('accepts YAML and updates exactly the zone that changed', async () => {
    const doc = demo();
    communities(doc)[1]!.zones[0].plant = 'shrubs';
    const res = await put(stringify(doc), { headers: { 'content-type': 'application/yaml' } });
    expect(res.statusCode).toBe(200);
    const body = res.json() as ImportBody;
    expect(body.report.changes).toEqual([{ table: 'zones', key: 'demo-heping-z1', action: 'updated', columns: ['plant'] }]);
  });

  it('previews with dryRun and writes nothing', async () => {
    const doc = demo();
    communities(doc)[1]!.zones[0].plant = 'trees';
    const body = (await put(doc, { query: '?dryRun=true' })).json() as ImportBody;
    expect(body.report.changes).toEqual([{ table: 'zones', key: 'demo-heping-z1', action: 'updated', columns: ['plant'] }]);
    const exported = (await t.app.api.inject({ method: 'GET', url: '/api/v1/inventory', headers: auth })).json() as Doc;
    expect(communities(exported)[0]!.zones[0].plant).toBe('shrubs');
  });

  it('retires a device the inventory drops: it can no longer connect', async () => {
    const id = 'demo-heping-bench-tilt';
    const doc = demo();
    const heping = communities(doc)[1]!;
    heping.devices = heping.devices.filter((d: Doc) => d.id !== id);
    const body = (await put(doc)).json() as ImportBody;
    expect(body.report.changes).toContainEqual({ table: 'devices', key: id, action: 'retired' });
    await expect(connect(t.app.mqttPort, { clientId: id, username: id, password: secrets.get(id) })).rejects.toThrow(/Not authorized|Bad username or password/i);
    const back = (await put(demo())).json() as ImportBody;
    expect(back.credentials).toEqual([]); // it comes back with its old secret
    const client = await connect(t.app.mqttPort, { clientId: id, username: id, password: secrets.get(id) });
    client.end();
  });

  it.each([
    { name: 'an unknown plant in JSON', payload: () => { const d = demo(); communities(d)[0]!.zones[0].plant = 'cactus'; return d; }, headers: {} as Record<string, string>,
      issue: { path: 'districts[0].subDistricts[0].communities[0].zones[0].plant', message: expect.stringContaining('expected one of trees|shrubs|hedge|ground_cover|lawn') } },
    { name: 'a dangling zone reference in YAML', payload: () => { const d = demo(); communities(d)[1]!.devices[0].zone = 'ghost'; delete communities(d)[1]!.devices[0].facility; return stringify(d); },
      headers: { 'content-type': 'application/yaml' },
      issue: { path: 'districts[0].subDistricts[0].communities[1].devices[0].zone', message: expect.stringContaining('no zone "ghost"'), line: expect.any(Number) } },
    { name: 'broken YAML', payload: () => 'version: 1\ndistricts: [\n', headers: { 'content-type': 'application/yaml' },
      issue: { path: expect.stringMatching(/^line 3/), message: expect.any(String), line: 3 } },
  ])('answers 400 naming the path for $name', async ({ payload, headers, issue }) => {
    const res = await put(payload(), { headers });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'bad_request', message: 'invalid inventory', issues: expect.arrayContaining([issue]) });
  });

  it.each([
    { method: 'GET' as const, headers: {}, status: 401 },
    { method: 'PUT' as const, headers: {}, status: 401 },
    // An unknown token is not authenticated (RFC 6750 invalid_token); wrong roles are covered by the access matrix.
    { method: 'GET' as const, headers: { authorization: 'Bearer wrong-token' }, status: 401 },
    { method: 'PUT' as const, headers: { authorization: 'Bearer wrong-token' }, status: 401 },
  ])('$method without the admin token answers $status', async ({ method, headers, status }) => {
    const res = await t.app.api.inject({ method, url: '/api/v1/inventory', headers, ...(method === 'PUT' ? { payload: demo() } : {}) });
    expect(res.statusCode).toBe(status);
  });

  it('imports through the running server from the CLI (--url), reporting problems against the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gs-cli-url-'));
    expect((await put(demo())).statusCode).toBe(200);
    try {
      const doc = demo();
      communities(doc)[1]!.devices.push({ id: 'demo-heping-gw', kind: 'gateway' });
      writeFileSync(join(dir, 'city.yaml'), stringify(doc));
      const url = `http://127.0.0.1:${t.app.httpPort}`;
      const run = await cli(['inventory', 'import', 'city.yaml', '--url', url, '--token', ADMIN_TOKEN, '--credentials', 'new.csv'], dir);
      expect(run.stdout).toContain('imported: 1 inserted, 0 updated');
      expect(statSync(join(dir, 'new.csv')).mode & 0o777).toBe(0o600);
      const [, line] = readFileSync(join(dir, 'new.csv'), 'utf8').trim().split('\n');
      const [id, secret] = line!.split(',') as [string, string];
      expect(await t.app.devices.authenticate(id, secret)).toMatchObject({ id: 'demo-heping-gw', kind: 'gateway' });

      writeFileSync(join(dir, 'bad.yaml'), 'version: 1\ndistricts:\n  - id: x\n');
      const bad = await cli(['inventory', 'import', 'bad.yaml', '--url', url, '--token', 'wrong-token', '--credentials', 'never.csv'], dir);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/bad\.yaml:3: districts\[0\]\.name: required/); // checked locally before any request
      writeFileSync(join(dir, 'ok.yaml'), DEMO_TEXT);
      const refused = await cli(['inventory', 'import', 'ok.yaml', '--url', url, '--token', 'wrong-token', '--credentials', 'never.csv'], dir);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('answered 401');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000); // two CLI runs, each compiling cli.ts with tsx in a child process

  it('documents both routes in the OpenAPI document', async () => {
    const res = await t.app.api.inject({ method: 'GET', url: '/docs/json' });
    const paths = (res.json() as { paths: Record<string, Record<string, unknown>> }).paths;
    expect(Object.keys(paths['/api/v1/inventory'] ?? {}).sort()).toEqual(['get', 'put']);
  });
});
