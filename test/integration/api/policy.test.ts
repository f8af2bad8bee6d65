import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../helpers/app.ts';
import { ROLES, type Role } from '../../../contracts/access.ts';
import { POLICY, PUBLIC_ROUTES } from '../../../api/policy.ts';
import { SEPARATION_OVERRIDDEN } from '../../../alerts/work-orders/service.ts';
import { DISTRICTS, seedTwoDistricts, twoDistrictInventory, type District, type Seeder } from './two-districts.ts';

/**
 * The running app against the intended policy (api/policy.ts), route × role × district:
 * every route of the OpenAPI document, called by every role with a city-wide token and
 * (but admin, which cannot be confined) with a token confined to `north`, on a thing in
 * `north` and on the same thing in `south`. Expected: a role the policy does not name is
 * refused (403); an allowed caller succeeds (2xx) on anything within its districts; a
 * confined caller gets 404 for a south object (hidden: the same answer as for none), 403
 * for creating in south, and lists without a trace of south.
 *
 * Nothing here reads what routes declare about themselves (x-roles, x-scope): the table
 * and this file's recipes are the specification.
 */

type Scope = 'public' | 'global' | 'list' | 'object' | 'into';
interface Call { url: string; body?: unknown; headers?: Record<string, string> }
interface Recipe { scope: Scope; call(d: District, seed: Seeder, caller: string): Call | Promise<Call> }

let unique = 0;
const next = () => ++unique;
const month = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 7);
const V1 = '/api/v1';

/** How to call each route on a thing of district `d` so that an allowed caller succeeds. */
const RECIPES: Record<string, Recipe> = {
  'GET /healthz': { scope: 'public', call: () => ({ url: '/healthz' }) },
  'GET /readyz': { scope: 'public', call: () => ({ url: '/readyz' }) },
  'GET /metrics': { scope: 'public', call: () => ({ url: '/metrics' }) },

  'GET /api/v1/work-orders': { scope: 'list', call: () => ({ url: `${V1}/work-orders` }) },
  'GET /api/v1/work-orders.csv': { scope: 'list', call: () => ({ url: `${V1}/work-orders.csv` }) },
  'GET /api/v1/work-orders/{id}': { scope: 'object', call: async (d, s) => ({ url: `${V1}/work-orders/${await s.workOrder(d, 'open')}` }) },
  'POST /api/v1/work-orders/{id}/assign': { scope: 'object', call: async (d, s) => ({ url: `${V1}/work-orders/${await s.workOrder(d, 'open')}/assign`, body: { assignee: `tech-${d}` } }) },
  'POST /api/v1/work-orders/{id}/accept': { scope: 'object', call: async (d, s) => ({ url: `${V1}/work-orders/${await s.workOrder(d, 'assigned')}/accept`, body: {} }) },
  'POST /api/v1/work-orders/{id}/resolve': { scope: 'object', call: async (d, s) => ({ url: `${V1}/work-orders/${await s.workOrder(d, 'accepted')}/resolve`, body: { note: `done in ${d}` } }) },
  'POST /api/v1/work-orders/{id}/verify': { scope: 'object', call: async (d, s) => ({ url: `${V1}/work-orders/${await s.workOrder(d, 'resolved')}/verify`, body: { note: 'checked on site' } }) },
  'POST /api/v1/work-orders/{id}/reject': { scope: 'object', call: async (d, s) => ({ url: `${V1}/work-orders/${await s.workOrder(d, 'resolved')}/reject`, body: { note: 'still leaning' } }) },

  'GET /api/v1/alerts': { scope: 'list', call: () => ({ url: `${V1}/alerts` }) },
  'GET /api/v1/alerts/{id}': { scope: 'object', call: async (d, s) => ({ url: `${V1}/alerts/${await s.alert(d)}` }) },
  'POST /api/v1/alerts/{id}/ack': { scope: 'object', call: async (d, s) => ({ url: `${V1}/alerts/${await s.alert(d)}/ack`, body: {} }) },
  'POST /api/v1/alerts/{id}/resolve': { scope: 'object', call: async (d, s) => ({ url: `${V1}/alerts/${await s.alert(d)}/resolve`, body: { note: 'battery swapped' } }) },
  'POST /api/v1/alerts/{id}/comments': { scope: 'object', call: async (d, s) => ({ url: `${V1}/alerts/${await s.alert(d)}/comments`, body: { text: 'on my way' } }) },

  'GET /api/v1/notifications': { scope: 'list', call: () => ({ url: `${V1}/notifications` }) },
  'POST /api/v1/notifications/{id}/retry': { scope: 'object', call: async (d, s) => ({ url: `${V1}/notifications/${await s.notification(d)}/retry` }) },
  'GET /api/v1/silences': { scope: 'list', call: () => ({ url: `${V1}/silences` }) },
  'POST /api/v1/silences': { scope: 'into', call: (d) => ({ url: `${V1}/silences`, body: { communityId: `${d}-c1`, endsAt: new Date(Date.now() + 3_600_000).toISOString(), comment: 'mowing' } }) },
  'DELETE /api/v1/silences/{id}': { scope: 'object', call: async (d, s) => ({ url: `${V1}/silences/${await s.silence(d)}` }) },

  'GET /api/v1/zones/{id}/irrigation': { scope: 'object', call: (d) => ({ url: `${V1}/zones/${d}-z1/irrigation` }) },
  'GET /api/v1/zones/{id}/decisions': { scope: 'object', call: (d) => ({ url: `${V1}/zones/${d}-z1/decisions` }) },
  'GET /api/v1/zones/{id}/signals': { scope: 'object', call: (d) => ({ url: `${V1}/zones/${d}-z1/signals` }) },
  // A zone of its own per caller: a zone already watering refuses a second start (409).
  'POST /api/v1/zones/{id}/water-now': { scope: 'object', call: (d, _s, caller) => ({ url: `${V1}/zones/${d}-w-${caller.replace('@', '-')}/water-now`, body: { durationS: 60 } }) },
  'POST /api/v1/zones/{id}/skip-next': { scope: 'object', call: (d) => ({ url: `${V1}/zones/${d}-z1/skip-next`, body: {} }) },
  'POST /api/v1/zones/{id}/pause': { scope: 'object', call: (d) => ({ url: `${V1}/zones/${d}-z2/pause`, body: { days: 30 } }) },
  'POST /api/v1/zones/{id}/forecast': { scope: 'object', call: (d) => ({ url: `${V1}/zones/${d}-z1/forecast`, body: { rainMm: 0 } }) },
  'PUT /api/v1/zones/{id}/irrigation': { scope: 'object', call: (d) => ({ url: `${V1}/zones/${d}-z1/irrigation`, body: { band: { low: 20, high: 32 } } }) },

  'GET /api/v1/facilities/{id}': { scope: 'object', call: (d) => ({ url: `${V1}/facilities/${d}-pav` }) },
  'GET /api/v1/facilities/{id}/thresholds': { scope: 'object', call: (d) => ({ url: `${V1}/facilities/${d}-pav/thresholds` }) },
  'POST /api/v1/facilities/{id}/calibrate': { scope: 'object', call: (d) => ({ url: `${V1}/facilities/${d}-pav/calibrate`, body: { pitch: 0.1, roll: 0.2 } }) },

  'GET /api/v1/devices': { scope: 'list', call: () => ({ url: `${V1}/devices` }) },
  'GET /api/v1/devices/{id}': { scope: 'object', call: (d) => ({ url: `${V1}/devices/${d}-soil` }) },
  'POST /api/v1/devices': { scope: 'into', call: (d) => ({ url: `${V1}/devices`, body: { id: `${d}-new-${next()}`, kind: 'soil', place: { district: d, community: `${d}-c1`, zone: `${d}-z2` } } }) },
  'POST /api/v1/devices/{id}/secret': { scope: 'object', call: (d) => ({ url: `${V1}/devices/${d}-spare/secret` }) },
  'POST /api/v1/devices/{id}/disable': { scope: 'object', call: (d) => ({ url: `${V1}/devices/${d}-spare/disable` }) },
  'POST /api/v1/devices/{id}/enable': { scope: 'object', call: (d) => ({ url: `${V1}/devices/${d}-spare/enable` }) },
  'POST /api/v1/devices/{id}/move': { scope: 'object', call: (d) => ({ url: `${V1}/devices/${d}-mover/move`, body: { zone: `${d}-z${next() % 2 + 1}` } }) },
  'PATCH /api/v1/devices/{id}': { scope: 'object', call: (d) => ({ url: `${V1}/devices/${d}-eui`, body: { lorawanApplication: `app-${d}` } }) },
  'GET /api/v1/dead-letters': { scope: 'list', call: () => ({ url: `${V1}/dead-letters` }) },
  'GET /api/v1/device-profiles': { scope: 'global', call: () => ({ url: `${V1}/device-profiles` }) },
  'GET /api/v1/device-profiles/{id}': { scope: 'global', call: () => ({ url: `${V1}/device-profiles/dragino-se01-lb` }) },

  'GET /api/v1/scorecard': { scope: 'list', call: () => ({ url: `${V1}/scorecard?month=${month}` }) },
  'GET /api/v1/scorecard.csv': { scope: 'list', call: () => ({ url: `${V1}/scorecard.csv?month=${month}` }) },
  'GET /api/v1/scorecard.xlsx': { scope: 'list', call: () => ({ url: `${V1}/scorecard.xlsx?month=${month}` }) },
  'GET /api/v1/inventory': { scope: 'global', call: () => ({ url: `${V1}/inventory` }) },
  'PUT /api/v1/inventory': { scope: 'global', call: () => ({ url: `${V1}/inventory?dryRun=true`, body: twoDistrictInventory() }) },
  'POST /api/v1/tokens': { scope: 'global', call: () => ({ url: `${V1}/tokens`, body: { name: `t-${next()}`, role: 'viewer' } }) },
  'GET /api/v1/tokens': { scope: 'global', call: () => ({ url: `${V1}/tokens` }) },
  'DELETE /api/v1/tokens/{id}': { scope: 'global', call: async () => ({ url: `${V1}/tokens/${await fresh.token()}` }) },
  'POST /api/v1/service-accounts': { scope: 'global', call: () => ({ url: `${V1}/service-accounts`, body: { id: `svc-${next()}`, kind: 'admin' } }) },
  'GET /api/v1/service-accounts': { scope: 'global', call: () => ({ url: `${V1}/service-accounts` }) },
  'POST /api/v1/service-accounts/{id}/secret': { scope: 'global', call: async () => ({ url: `${V1}/service-accounts/${await fresh.account()}/secret` }) },
  'POST /api/v1/service-accounts/{id}/disable': { scope: 'global', call: async () => ({ url: `${V1}/service-accounts/${await fresh.account()}/disable` }) },
  'POST /api/v1/service-accounts/{id}/enable': { scope: 'global', call: async () => ({ url: `${V1}/service-accounts/${await fresh.account()}/enable` }) },
  'DELETE /api/v1/service-accounts/{id}': { scope: 'global', call: async () => ({ url: `${V1}/service-accounts/${await fresh.account()}` }) },

  'GET /api/v1/alerts/{id}/link': { scope: 'public', call: async (d, s) => ({ url: linkOf(await s.alert(d)).replace('/app/ack/', `${V1}/alerts/`).replace('?', '/link?') }) },
  'POST /api/v1/alerts/{id}/link-ack': { scope: 'public', call: async (d, s) => { const u = new URL(linkOf(await s.alert(d))); return { url: `${V1}/alerts/${u.pathname.split('/').at(-1)}/link-ack`, body: { ...Object.fromEntries(u.searchParams), note: 'on my way' } }; } },
  'POST /api/v1/work-orders/{id}/photos': { scope: 'object', call: async (d, s) => ({ url: `${V1}/work-orders/${await s.workOrder(d, 'accepted')}/photos`, ...photoUpload() }) },
  'GET /api/v1/work-orders/{id}/photos/{file}': { scope: 'object', call: async (d, s) => {
    const id = await s.workOrder(d, 'accepted');
    const res = await t.app.api.inject({ method: 'POST', url: `${V1}/work-orders/${id}/photos`, headers: { ...admin, ...photoUpload().headers }, payload: photoUpload().body });
    return { url: (res.json() as { url: string }).url };
  } },
  'POST /api/v1/communities/{id}/reports': { scope: 'public', call: (d) => ({ url: `${V1}/communities/${d}-c1/reports`, body: { category: 'green_space_destroyed', text: `vegetables planted ${next()}` } }) },
  'GET /api/v1/reports/{reference}': { scope: 'public', call: async (d) => {
    const res = await t.app.api.inject({ method: 'POST', url: `${V1}/communities/${d}-c1/reports`, payload: { category: 'other', text: 'bench broken' } });
    return { url: `${V1}/reports/${(res.json() as { reference: string }).reference}` };
  } },
  'POST /api/v1/session': { scope: 'public', call: async () => ({ url: `${V1}/session`, body: { name: await fresh.user('technician'), password: PASSWORD } }) },
  'DELETE /api/v1/session': { scope: 'public', call: () => ({ url: `${V1}/session` }) },
  'GET /api/v1/session': { scope: 'global', call: () => ({ url: `${V1}/session` }) },
  'POST /api/v1/users': { scope: 'global', call: () => ({ url: `${V1}/users`, body: { name: `u-${next()}`, role: 'technician', password: PASSWORD } }) },
  'GET /api/v1/users': { scope: 'global', call: () => ({ url: `${V1}/users` }) },
  // A person changes their own password: the caller's token carries the same name as a user.
  'POST /api/v1/users/{name}/password': { scope: 'global', call: async (_d, _s, caller) => {
    const name = caller.replace('@', '-'); // the caller's token name
    await t.app.api.inject({ method: 'POST', url: `${V1}/users`, headers: admin, payload: { name, role: 'viewer', password: PASSWORD } });
    await t.app.api.inject({ method: 'POST', url: `${V1}/users/${name}/password`, headers: admin, payload: { newPassword: PASSWORD } });
    return { url: `${V1}/users/${name}/password`, body: { currentPassword: PASSWORD, newPassword: `${PASSWORD}-new` } };
  } },
};
const PASSWORD = 'correct horse battery';
/** A multipart body with a tiny PNG in the field `photo`. */
function photoUpload(): { headers: Record<string, string>; body: Buffer } {
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
  const boundary = 'gs-boundary-1';
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="photo"; filename="fix.png"\r\nContent-Type: image/png\r\n\r\n`),
    png, Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body };
}
const linkOf = (alertId: number): string => t.app.people.ackLink(alertId, 'team-test');

/** Things outside any district, made fresh for each call that uses one up. */
const fresh = {
  /** A fresh user with PASSWORD. */
  user: async (role: Role): Promise<string> => {
    const name = `u-${next()}`;
    await t.app.api.inject({ method: 'POST', url: `${V1}/users`, headers: admin, payload: { name, role, password: PASSWORD } });
    return name;
  },
  token: async (): Promise<string> => {
    const res = await t.app.api.inject({ method: 'POST', url: `${V1}/tokens`, headers: admin, payload: { name: `t-${next()}`, role: 'viewer' } });
    return (res.json() as { token: { id: string } }).token.id;
  },
  account: async (): Promise<string> => {
    const id = `svc-${next()}`;
    await t.app.api.inject({ method: 'POST', url: `${V1}/service-accounts`, headers: admin, payload: { id, kind: 'admin' } });
    return id;
  },
};

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
let t: TestApp;
let seed: Seeder;
let started: Promise<void> | undefined;
/** One app and one seeded city for the whole file. */
const ready = () => (started ??= (async () => {
  t = await startTestApp({ residentReportsPerHour: 10_000 }); // the matrix reports as every caller from one address
  seed = await seedTwoDistricts(t);
})());
afterAll(async () => t?.stop());

interface Caller { label: string; role: Role; confined: boolean; token: string }

describe('route × role × district, against the intended policy', () => {
  let routes: string[];
  const callers: Caller[] = [];
  const inject = async (method: string, call: Call, token: string) => readable(await t.app.api.inject({
    method: method as 'GET', url: call.url, headers: { authorization: `Bearer ${token}`, ...call.headers }, ...(call.body === undefined ? {} : { payload: call.body as object }),
  }));

  beforeAll(async () => {
    await ready();
    for (const role of ROLES) {
      for (const confined of role === 'admin' ? [false] : [false, true]) {
        const res = await t.app.api.inject({ method: 'POST', url: `${V1}/tokens`, headers: admin, payload: { name: `${role}${confined ? '-north' : ''}`, role, ...(confined ? { districts: ['north'] } : {}) } });
        callers.push({ label: `${role}${confined ? '@north' : ''}`, role, confined, token: (res.json() as { secret: string }).secret });
      }
    }
    const doc = (await t.app.api.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> };
    routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
  }, 60_000);

  it('has a policy row and a recipe for every route the OpenAPI document lists, and no more', () => {
    const inPolicy = Object.values(POLICY).flatMap((row) => row.routes as readonly string[]);
    expect(new Set(inPolicy).size, 'a route in two policy rows').toBe(inPolicy.length);
    expect([...inPolicy].sort(), 'the policy names exactly the routes served').toEqual(routes);
    expect(Object.keys(RECIPES).sort(), 'a new route needs a recipe here: how to call it on a north and a south thing').toEqual(routes);
  });

  it('refuses (403), hides (404) or allows (2xx) every route for every role, city-wide and confined to north', async () => {
    const wrong: string[] = [];
    for (const route of routes) {
      const recipe = RECIPES[route];
      if (!recipe) continue; // reported by the test above
      const method = route.split(' ')[0]!;
      const roles = Object.values(POLICY).find((row) => (row.routes as readonly string[]).includes(route))?.roles as readonly Role[] | undefined;
      for (const caller of callers) {
        const targets: readonly District[] = recipe.scope === 'object' || recipe.scope === 'into' ? DISTRICTS : ['north'];
        for (const d of targets) {
          const call = await recipe.call(d, seed, caller.label);
          const res = await inject(method, call, caller.token);
          const where = `${route} as ${caller.label} on ${d}`;
          const expected = expectation(recipe.scope, roles, caller, d, PUBLIC_ROUTES.includes(route));
          const ok = expected === '2xx' ? res.statusCode >= 200 && res.statusCode < 300 : res.statusCode === expected;
          if (!ok) { wrong.push(`${where}: expected ${expected}, got ${res.statusCode} ${res.body.slice(0, 160)}`); continue; }
          if (recipe.scope === 'object' && expected === 404) {
            const leak = await differsFromMissing(route, call, res.body, caller.token);
            if (leak) wrong.push(`${where}: hidden is not the same as missing: ${leak}`);
          }
          if (recipe.scope === 'list' && expected === '2xx' && caller.confined) {
            if (res.body.includes('south')) wrong.push(`${where}: the list shows south: ${res.body.slice(0, 200)}`);
            if (!res.body.includes('north')) wrong.push(`${where}: the list lost north: ${res.body.slice(0, 200)}`);
          }
        }
      }
    }
    expect(wrong, wrong.join('\n')).toEqual([]);
  }, 240_000);

  it('shows a city-wide caller both districts in every list', async () => {
    for (const route of routes.filter((r) => RECIPES[r]?.scope === 'list')) {
      const res = await inject(route.split(' ')[0]!, await RECIPES[route]!.call('north', seed, 'admin'), ADMIN_TOKEN);
      expect(res.body, route).toContain('north');
      expect(res.body, route).toContain('south');
    }
  });
});


/** A workbook answer read as the text of its cells, so the list checks can look for districts in it as in JSON or CSV. */
async function readable<R extends { body: string; rawPayload: Buffer; headers: Record<string, unknown>; statusCode: number }>(res: R): Promise<R> {
  if (res.statusCode !== 200 || !String(res.headers['content-type']).includes('spreadsheetml')) return res;
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(res.rawPayload as never);
  const cells = book.worksheets.flatMap((sheet) => sheet.getSheetValues().flatMap((row) => (Array.isArray(row) ? row : [])));
  return Object.assign(Object.create(Object.getPrototypeOf(res) as object) as R, res, { body: cells.map(String).join(',') });
}

/**
 * A hidden object must answer exactly as a missing one of the same kind (the id aside), or
 * its existence leaks: the same request with an id that exists nowhere, compared.
 */
async function differsFromMissing(route: string, call: Call, hiddenBody: string, token: string): Promise<string | undefined> {
  const [method, path] = route.split(' ') as [string, string];
  const id = new RegExp(`^${path.replace(/[.]/g, '\\.').replace('{id}', '([^/?]+)').replace(/\{\w+\}/g, '[^/?]+')}(?:\\?.*)?$`).exec(call.url)?.[1];
  if (!id) return `cannot find the id in ${call.url}`;
  const ghost = /^\d+$/.test(id) ? '987654321' : 'ghost-nowhere';
  const missing = await t.app.api.inject({
    method: method as 'GET', url: call.url.replace(`/${id}`, `/${ghost}`), headers: { authorization: `Bearer ${token}`, ...call.headers }, ...(call.body === undefined ? {} : { payload: call.body as object }),
  });
  const expected = missing.body.replaceAll(ghost, id);
  return missing.statusCode === 404 && expected === hiddenBody ? undefined : `missing answers ${missing.statusCode} ${expected}, hidden ${hiddenBody}`;
}

function expectation(scope: Scope, roles: readonly Role[] | undefined, caller: Caller, d: District, isPublic: boolean): '2xx' | 403 | 404 {
  if (isPublic) return '2xx';
  if (!roles?.includes(caller.role)) return 403;
  if (!caller.confined || d === 'north') return '2xx';
  return scope === 'object' ? 404 : scope === 'into' ? 403 : '2xx';
}

describe('整改销号: the one who fixed is not the one who signs it off', () => {
  const tokens: Record<string, string> = {};
  const act = (token: string, id: number, action: string, body: object = {}) =>
    t.app.api.inject({ method: 'POST', url: `${V1}/work-orders/${id}/${action}`, headers: { authorization: `Bearer ${token}` }, payload: body });

  beforeAll(async () => {
    await ready();
    for (const [name, role] of [['op-zhao', 'operator'], ['op-liu', 'operator'], ['tech-wang', 'technician'], ['admin-sun', 'admin']] as const) {
      const res = await t.app.api.inject({ method: 'POST', url: `${V1}/tokens`, headers: admin, payload: { name, role } });
      tokens[name] = (res.json() as { secret: string }).secret;
    }
  }, 60_000);

  it('lets a technician resolve but never verify; another operator verifies', async () => {
    const id = await seed.workOrder('north', 'accepted');
    expect((await act(tokens['tech-wang']!, id, 'resolve', { note: 'bolts tightened' })).statusCode).toBe(200);
    expect((await act(tokens['tech-wang']!, id, 'verify')).statusCode).toBe(403);
    const closed = await act(tokens['op-zhao']!, id, 'verify', { note: 'checked' });
    expect(closed.json()).toMatchObject({ state: 'closed', closedBy: 'op-zhao' });
  });

  it('refuses an operator verifying their own fix, even naming someone else in `by`', async () => {
    const id = await seed.workOrder('north', 'accepted');
    expect((await act(tokens['op-zhao']!, id, 'resolve', { note: 'reseated the probe' })).statusCode).toBe(200);
    const own = await act(tokens['op-zhao']!, id, 'verify', { by: 'op-liu' });
    expect(own.statusCode, own.body).toBe(403);
    expect(own.json()).toMatchObject({ error: 'forbidden' });
    expect((await act(tokens['op-zhao']!, id, 'verify', { overrideSeparation: true })).statusCode).toBe(403);
    expect((await act(tokens['op-liu']!, id, 'verify')).json()).toMatchObject({ state: 'closed', closedBy: 'op-liu' });
  });

  it('lets an admin override the separation, and writes the override into the history', async () => {
    const id = await seed.workOrder('south', 'accepted');
    expect((await act(tokens['admin-sun']!, id, 'resolve', { note: 'replaced the brace' })).statusCode).toBe(200);
    expect((await act(tokens['admin-sun']!, id, 'verify')).statusCode).toBe(403);
    expect((await act(tokens['admin-sun']!, id, 'verify', { overrideSeparation: true, note: 'alone on site' })).json()).toMatchObject({ state: 'closed', closedBy: 'admin-sun' });
    const history = (await t.app.api.inject({ url: `${V1}/work-orders/${id}`, headers: admin })).json() as { history: Array<{ action: string; by: string; note: string | null }> };
    expect(history.history.at(-1)).toMatchObject({ action: 'verify', by: 'admin-sun', note: `${SEPARATION_OVERRIDDEN}: alone on site` });
  });

  it('judges the latest fix: after a rejection, whoever resolves again is the one who may not verify', async () => {
    const id = await seed.workOrder('north', 'resolved'); // resolved by tech-fixture
    expect((await act(tokens['op-zhao']!, id, 'reject', { note: 'still loose' })).statusCode).toBe(200);
    expect((await act(tokens['op-liu']!, id, 'resolve', { note: 'tightened again' })).statusCode).toBe(200);
    expect((await act(tokens['op-liu']!, id, 'verify')).statusCode).toBe(403);
    expect((await act(tokens['op-zhao']!, id, 'verify')).statusCode).toBe(200);
  });
});

describe('scope holds however a request is spelled', () => {
  let north: string;
  let operatorNorth: string;
  const as = (token: string, method: string, url: string, payload?: object) =>
    t.app.api.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload }) });

  beforeAll(async () => {
    await ready();
    const mint = async (name: string, role: Role) =>
      ((await t.app.api.inject({ method: 'POST', url: `${V1}/tokens`, headers: admin, payload: { name, role, districts: ['north'] } })).json() as { secret: string }).secret;
    north = await mint('viewer spelled north', 'viewer');
    operatorNorth = await mint('operator spelled north', 'operator');
  }, 60_000);

  it.each(['%s.0', '+%s', '%s.00', '0%s', '%20%s'])('hides a south alert and work order asked for as %s', async (spelling) => {
    const alert = await seed.alert('south');
    const workOrder = await seed.workOrder('south', 'open');
    for (const url of [`${V1}/alerts/${spelling.replace('%s', String(alert))}`, `${V1}/work-orders/${spelling.replace('%s', String(workOrder))}`]) {
      const res = await as(north, 'GET', url);
      expect(res.statusCode, `${url}: ${res.body}`).not.toBe(200);
      expect(res.body, url).not.toContain('south');
    }
  });

  it('refuses to place a device in a south zone by naming it under a north community', async () => {
    const res = await as(operatorNorth, 'POST', `${V1}/devices`, {
      id: `smuggled-${next()}`, kind: 'soil', place: { district: 'north', community: 'north-c1', zone: 'south-z1', plant: 'lawn' },
    });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json()).toMatchObject({ message: expect.stringContaining('zone south-z1 belongs to community south-c1') });
  });

  it('keeps the one who entered a fix for someone else from verifying it', async () => {
    const tokens: Record<string, string> = {};
    for (const [name, role] of [['op-entering', 'operator'], ['op-other', 'operator'], ['admin-entering', 'admin']] as const) {
      tokens[name] = ((await t.app.api.inject({ method: 'POST', url: `${V1}/tokens`, headers: admin, payload: { name, role } })).json() as { secret: string }).secret;
    }
    const id = await seed.workOrder('north', 'accepted');
    expect((await as(tokens['op-entering']!, 'POST', `${V1}/work-orders/${id}/resolve`, { note: 'phoned in by the crew', by: 'tech-somebody' })).statusCode).toBe(200);
    const own = await as(tokens['op-entering']!, 'POST', `${V1}/work-orders/${id}/verify`, { note: 'looks fine' });
    expect(own.statusCode, own.body).toBe(403);
    expect((await as(tokens['op-other']!, 'POST', `${V1}/work-orders/${id}/verify`, {})).json()).toMatchObject({ state: 'closed', closedBy: 'op-other' });

    // An admin who entered the fix and verifies "as" someone else still overrides, on the record.
    const second = await seed.workOrder('north', 'accepted');
    expect((await as(tokens['admin-entering']!, 'POST', `${V1}/work-orders/${second}/resolve`, { note: 'replaced', by: 'tech-somebody' })).statusCode).toBe(200);
    expect((await as(tokens['admin-entering']!, 'POST', `${V1}/work-orders/${second}/verify`, { by: 'op-other' })).statusCode).toBe(403);
    expect((await as(tokens['admin-entering']!, 'POST', `${V1}/work-orders/${second}/verify`, { by: 'op-other', overrideSeparation: true })).statusCode).toBe(200);
    const history = (await as(ADMIN_TOKEN, 'GET', `${V1}/work-orders/${second}`)).json() as { history: Array<{ action: string; note: string | null }> };
    expect(history.history.at(-1)).toMatchObject({ action: 'verify', note: SEPARATION_OVERRIDDEN });
  });
});
