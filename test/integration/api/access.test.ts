import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../helpers/app.ts';
import { ROLES, type Role } from '../../../contracts/access.ts';

type Operation = { 'x-roles'?: Role[]; 'x-scope'?: string; summary?: string; responses?: Record<string, unknown> };
/**
 * Routes anyone may call: probes, metrics (scraped from the private network), the docs
 * themselves, logging in and out, a notification's signed acknowledge link (the link is the proof), and residents' reports.
 */
const PUBLIC = new Set(['GET /healthz', 'GET /readyz', 'GET /metrics', 'POST /api/v1/session', 'DELETE /api/v1/session', 'GET /api/v1/alerts/{id}/link', 'POST /api/v1/alerts/{id}/link-ack',
  'POST /api/v1/communities/{id}/reports', 'GET /api/v1/reports/{reference}']);

/** Every route fastify serves, from its route tree (HEAD, the docs UI and the web pages left out). */
function servedRoutes(tree: string): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    stack.length = (match[1] as string).length / 4;
    stack.push(match[2] as string);
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of (match[3] ?? '').split(', ').filter((m) => m && m !== 'HEAD')) {
      // The docs UI and the people's HTML pages (web/pages.ts: `/`, `/app/…`) are not API operations.
      if (!path.startsWith('/docs') && path !== '/' && !path.startsWith('/app')) routes.push(`${method} ${path}`);
    }
  }
  return routes.sort();
}

describe('API access control', () => {
  let t: TestApp;
  const tokens = {} as Record<Role, string>;
  let operations: Array<{ method: string; path: string; op: Operation }>;
  const call = (method: string, url: string, token?: string, payload?: unknown) =>
    t.app.api.inject({ method: method as 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(payload === undefined ? {} : { payload: payload as object }) });

  beforeAll(async () => {
    t = await startTestApp();
    for (const role of ROLES) {
      const res = await call('POST', '/api/v1/tokens', ADMIN_TOKEN, { name: `${role} token`, role });
      expect(res.statusCode).toBe(201);
      tokens[role] = (res.json() as { secret: string }).secret;
    }
    const doc = (await call('GET', '/docs/json')).json() as { paths: Record<string, Record<string, Operation>> };
    operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
  });
  afterAll(async () => t?.stop());

  it('documents every route it serves in /docs/json, each with a summary, its district scope, and declared roles unless public', () => {
    const documented = operations.map((o) => `${o.method} ${o.path}`).sort();
    expect(documented).toEqual(servedRoutes(t.app.api.printRoutes({ commonPrefix: false })));
    for (const { method, path, op } of operations) {
      expect(op.summary, `${method} ${path} summary`).toBeTruthy();
      // Registration refuses a route without one (api/scope.ts); policy.test.ts checks what it does.
      expect(op['x-scope'], `${method} ${path} declares its district scope`).toMatch(/^(global|object:|list:|into:)/);
      if (PUBLIC.has(`${method} ${path}`)) continue;
      expect(op['x-roles'], `${method} ${path} declares its roles`).toEqual(expect.arrayContaining([expect.any(String)]));
      expect(Object.keys(op.responses ?? {}), `${method} ${path} documents its refusals`).toEqual(expect.arrayContaining(['401', '403', '429']));
    }
  });

  it('answers 401 without a token, 403 to every role not allowed and lets every allowed role through, on every route', async () => {
    const guarded = operations.filter((o) => o['op']['x-roles']);
    expect(guarded.length).toBeGreaterThanOrEqual(14);
    for (const { method, path, op } of guarded) {
      const url = path.replace(/\{(\w+)\}/g, 'no-such-$1');
      const body = ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined;
      const anonymous = await call(method, url, undefined, body);
      expect(anonymous.statusCode, `${method} ${path} anonymous`).toBe(401);
      expect(anonymous.headers['www-authenticate']).toBe('Bearer');
      if (method === 'GET') expect((await call('HEAD', url)).statusCode, `HEAD ${path} anonymous`).toBe(401);
      for (const role of ROLES) {
        const res = await call(method, url, tokens[role], body);
        const allowed = op['x-roles']?.includes(role);
        if (allowed) expect([401, 403], `${method} ${path} as ${role}: ${res.body}`).not.toContain(res.statusCode);
        else expect(res.statusCode, `${method} ${path} as ${role}`).toBe(403);
      }
    }
  });

  it.each([
    ['GET', '/api/v1/devices', ['admin', 'operator', 'technician', 'viewer', 'service']],
    ['GET', '/api/v1/tokens', ['admin']],
    ['GET', '/api/v1/service-accounts', ['admin']],
    ['GET', '/api/v1/dead-letters', ['admin', 'operator']],
  ] as const)('%s %s answers 200 to %j', async (method, url, roles) => {
    for (const role of ROLES) expect((await call(method, url, tokens[role])).statusCode, role).toBe((roles as readonly string[]).includes(role) ? 200 : 403);
  });

  it('lets allowed roles change devices: register, rotate, disable, enable, move (200/201)', async () => {
    const cases: Array<[Role, string, string, unknown, number]> = [
      ['service', 'POST', '/api/v1/devices', { id: 'svc-dev', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } }, 201],
      ['operator', 'POST', '/api/v1/devices', { id: 'op-dev', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z2' } }, 201],
      ['technician', 'POST', '/api/v1/devices/svc-dev/secret', undefined, 200],
      ['operator', 'POST', '/api/v1/devices/svc-dev/disable', undefined, 200],
      ['operator', 'POST', '/api/v1/devices/svc-dev/enable', undefined, 200],
      ['operator', 'POST', '/api/v1/devices/svc-dev/move', { zone: 'z2' }, 200],
      ['viewer', 'GET', '/api/v1/devices/svc-dev', undefined, 200],
    ];
    for (const [role, method, url, body, status] of cases) expect((await call(method, url, tokens[role], body)).statusCode, `${method} ${url} as ${role}`).toBe(status);
    expect((await call('GET', '/api/v1/devices/svc-dev', tokens.viewer)).json()).toMatchObject({ zone: 'z2', disabled: false });
  });

  it.each([
    ['POST', '/api/v1/tokens', { name: '', role: 'root', districts: [] }, ['districts', 'name', 'role']],
    ['POST', '/api/v1/tokens', { name: 'x', role: 'admin', districts: ['d1'] }, ['districts']],
    ['POST', '/api/v1/tokens', { name: 'x', role: 'viewer', extra: 1 }, ['']],
    ['POST', '/api/v1/devices', { id: 'a/b', kind: 'lamp', place: { district: 'd1' } }, ['id', 'kind', 'place.community']],
    ['POST', '/api/v1/devices', { id: 'no-eui', kind: 'soil', lorawanApplication: 'greenspace-soil@ttn' }, ['lorawanApplication']],
    ['POST', '/api/v1/devices', { id: 'bad-app', kind: 'soil', devEui: '24e124126c470001', lorawanApplication: 'app/+' }, ['lorawanApplication']],
    ['POST', '/api/v1/service-accounts', { id: 'cs', kind: 'chirpstack', applications: ['ok', 'app/+'] }, ['applications.1']],
    ['POST', '/api/v1/service-accounts', { id: 'tts', kind: 'tts', applications: ['no-tenant'] }, ['applications.0']],
    ['POST', '/api/v1/devices/svc-dev/move', { zone: 'z1', facility: 'f1' }, ['']],
  ] as const)('%s %s with a bad body: 400 naming the fields %j', async (method, url, body, paths) => {
    const res = await call(method, url, ADMIN_TOKEN, body);
    expect(res.statusCode, res.body).toBe(400);
    const issues = (res.json() as { error: string; issues: Array<{ path: string; message: string }> });
    expect(issues.error).toBe('bad_request');
    expect([...new Set(issues.issues.map((i) => i.path))].sort()).toEqual(paths);
  });

  it('answers 404 for unknown ids and places', async () => {
    for (const [method, url, body] of [
      ['GET', '/api/v1/devices/ghost', undefined], ['POST', '/api/v1/devices/ghost/secret', undefined], ['POST', '/api/v1/devices/ghost/disable', undefined],
      ['POST', '/api/v1/devices/ghost/move', { zone: 'z1' }], ['POST', '/api/v1/devices/svc-dev/move', { zone: 'no-zone' }],
      ['DELETE', '/api/v1/tokens/ghost', undefined], ['POST', '/api/v1/service-accounts/ghost/disable', undefined],
    ] as const) {
      expect((await call(method, url, ADMIN_TOKEN, body)).statusCode, `${method} ${url}`).toBe(404);
    }
  });

  it('shows a token once, lists it without its secret, and refuses it at once when revoked', async () => {
    const created = await call('POST', '/api/v1/tokens', ADMIN_TOKEN, { name: 'temp', role: 'operator' });
    const { token, secret } = created.json() as { token: { id: string }; secret: string };
    expect(secret).toMatch(/^gst_[A-Za-z0-9_-]{43}$/);
    const listed = (await call('GET', '/api/v1/tokens', ADMIN_TOKEN)).body;
    expect(listed).toContain(token.id);
    expect(listed).not.toContain(secret);
    expect((await call('GET', '/api/v1/devices', secret)).statusCode).toBe(200);
    expect((await call('DELETE', `/api/v1/tokens/${token.id}`, ADMIN_TOKEN)).json()).toMatchObject({ id: token.id, revokedAt: expect.any(String) });
    const refused = await call('GET', '/api/v1/devices', secret);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('creates, rotates and deletes an MQTT service account, refusing names already taken by a device', async () => {
    const created = await call('POST', '/api/v1/service-accounts', ADMIN_TOKEN, { id: 'cs-1', kind: 'chirpstack', applications: ['a1', 'a1', 'a2'] });
    expect(created.statusCode).toBe(201);
    const first = created.json() as { account: { applications: string[] }; secret: string };
    expect(first.account.applications).toEqual(['a1', 'a2']);
    const rotated = (await call('POST', '/api/v1/service-accounts/cs-1/secret', ADMIN_TOKEN)).json() as { secret: string };
    expect(rotated.secret).not.toBe(first.secret);
    expect((await call('GET', '/api/v1/service-accounts', ADMIN_TOKEN)).body).not.toContain(rotated.secret);
    expect((await call('POST', '/api/v1/service-accounts', ADMIN_TOKEN, { id: 'svc-dev', kind: 'admin' })).statusCode).toBe(409);
    expect((await call('DELETE', '/api/v1/service-accounts/cs-1', ADMIN_TOKEN)).statusCode).toBe(204);
    expect((await call('DELETE', '/api/v1/service-accounts/cs-1', ADMIN_TOKEN)).statusCode).toBe(404);
  });

  it('confines a district token to its districts', async () => {
    await call('POST', '/api/v1/devices', ADMIN_TOKEN, { id: 'n-1', kind: 'soil', place: { district: 'north', community: 'cn', zone: 'zn' } });
    await call('POST', '/api/v1/devices', ADMIN_TOKEN, { id: 's-1', kind: 'soil', place: { district: 'south', community: 'cs', zone: 'zs' } });
    const north = (await call('POST', '/api/v1/tokens', ADMIN_TOKEN, { name: 'north ops', role: 'operator', districts: ['north'] })).json() as { secret: string };
    const listed = (await call('GET', '/api/v1/devices', north.secret)).json() as Array<{ id: string }>;
    expect(listed.map((d) => d.id)).toEqual(['n-1']);
    expect((await call('GET', '/api/v1/devices/s-1', north.secret)).statusCode).toBe(404);
    expect((await call('POST', '/api/v1/devices/s-1/disable', north.secret)).statusCode).toBe(404);
    expect((await call('POST', '/api/v1/devices/n-1/move', north.secret, { zone: 'zs' })).statusCode).toBe(404);
    expect((await call('POST', '/api/v1/devices', north.secret, { id: 's-2', kind: 'soil', place: { district: 'south', community: 'cs' } })).statusCode).toBe(403);
    expect((await call('POST', '/api/v1/devices/n-1/disable', north.secret)).statusCode).toBe(200);
  });

  it('rate-limits failed authentication per client address: 429 with Retry-After, counted', async () => {
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 14; i++) {
      const res = await call('GET', '/api/v1/devices', `guess-${i}`);
      statuses.push(res.statusCode);
      if (res.statusCode === 429) retryAfter = res.headers['retry-after'] as string;
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect((await call('GET', '/api/v1/devices', tokens.viewer)).statusCode).toBe(200); // a good token still works
    const metrics = (await call('GET', '/metrics')).body;
    expect(metrics).toMatch(/gs_api_auth_failures_total\{reason="rate_limited"\} [1-9]/);
    expect(metrics).toMatch(/gs_api_auth_failures_total\{reason="forbidden"\} [1-9]/);
    expect(metrics).toMatch(/gs_api_auth_failures_total\{reason="missing_token"\} [1-9]/);
  });
});
