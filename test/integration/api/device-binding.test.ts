import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../helpers/app.ts';
import { ROLES, type Role } from '../../../contracts/access.ts';
import { BINDING_NEEDS_EUI } from '../../../contracts/device.ts';

const DEMO = parse(readFileSync(new URL('../../../inventory/examples/demo.yaml', import.meta.url), 'utf8')) as unknown;
/** The demo inventory binds its LoRaWAN devices to this ChirpStack application. */
const DEMO_APP = '0b6a3f9e-2c41-4d7a-9e55-7f3c2a1b8d10';
const OTHER_APP = '5d1e7c2a-9b3f-4e8d-a6c0-1f2e3d4c5b6a';

describe('PATCH /api/v1/devices/:id: a LoRaWAN application binding through the API', () => {
  let t: TestApp;
  const tokens = {} as Record<Role, string>;
  let confinedOperator: string;
  const patch = (id: string, payload: unknown, token = ADMIN_TOKEN) =>
    t.app.api.inject({ method: 'PATCH', url: `/api/v1/devices/${id}`, headers: { authorization: `Bearer ${token}` }, payload: payload as object });
  const get = async (id: string) => (await t.app.api.inject({ url: `/api/v1/devices/${id}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json() as Record<string, unknown>;

  beforeAll(async () => {
    t = await startTestApp();
    for (const role of ROLES) {
      const res = await t.app.api.inject({ method: 'POST', url: '/api/v1/tokens', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { name: `${role} token`, role } });
      tokens[role] = (res.json() as { secret: string }).secret;
    }
    const confined = await t.app.api.inject({
      method: 'POST', url: '/api/v1/tokens', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { name: 'north operator', role: 'operator', districts: ['north'] },
    });
    confinedOperator = (confined.json() as { secret: string }).secret;
    const imported = await t.app.api.inject({ method: 'PUT', url: '/api/v1/inventory', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: DEMO as object });
    expect(imported.statusCode).toBe(200);
    await t.register({ id: 'lora-1', kind: 'soil', devEui: '24E124126C470001', place: { district: 'taobei', community: 'demo-xingfu', zone: 'demo-xingfu-z1' } });
  });
  afterAll(async () => t?.stop());

  it.each([
    ['admin', 200], ['operator', 200], ['technician', 403], ['viewer', 403], ['service', 403],
  ] as const)('answers %s with %i', async (role, status) => {
    const res = await patch('lora-1', { lorawanApplication: OTHER_APP }, tokens[role]);
    expect(res.statusCode, res.body).toBe(status);
    if (status === 200) expect(res.json()).toMatchObject({ id: 'lora-1', devEui: '24e124126c470001', lorawanApplication: OTHER_APP });
  });

  it('refuses an anonymous caller before reading the body', async () => {
    const res = await t.app.api.inject({ method: 'PATCH', url: '/api/v1/devices/lora-1', payload: { lorawanApplication: 'x y' } });
    expect(res.statusCode).toBe(401);
  });

  it('binds to a The Things Stack application and unbinds with null', async () => {
    expect((await patch('lora-1', { lorawanApplication: 'parks-soil@city-tenant' })).json()).toMatchObject({ lorawanApplication: 'parks-soil@city-tenant' });
    expect(await get('lora-1')).toMatchObject({ lorawanApplication: 'parks-soil@city-tenant' });
    const unbound = await patch('lora-1', { lorawanApplication: null });
    expect(unbound.statusCode).toBe(200);
    expect(unbound.json()).not.toHaveProperty('lorawanApplication');
    expect(await get('lora-1')).not.toHaveProperty('lorawanApplication');
  });

  it.each([
    ['an id with a topic separator', { lorawanApplication: 'app/+' }, 'lorawanApplication', /ChirpStack application id or a The Things Stack/],
    ['an empty id', { lorawanApplication: '' }, 'lorawanApplication', /ChirpStack application id/],
    ['a number', { lorawanApplication: 42 }, 'lorawanApplication', /^expected a ChirpStack .* or null to unbind$/],
    ['no lorawanApplication at all (an empty body never unbinds)', {}, 'lorawanApplication', /^required: a ChirpStack .* or null to unbind$/],
    ['a field it does not change', { lorawanApplication: OTHER_APP, kind: 'tilt' }, '', /kind/],
  ])('refuses %s with 400 naming the field', async (_what, body, path, message) => {
    const res = await patch('lora-1', body);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ error: 'bad_request', issues: [{ path, message: expect.stringMatching(message) }] });
  });

  it('refuses to bind a device without a dev EUI, saying why, and leaves it unbound', async () => {
    const res = await patch('demo-xingfu-z2-soil1', { lorawanApplication: OTHER_APP });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'bad_request',
      message: `device demo-xingfu-z2-soil1 has no devEui: ${BINDING_NEEDS_EUI}`,
      issues: [{ path: 'lorawanApplication', message: BINDING_NEEDS_EUI }],
    });
    expect(await get('demo-xingfu-z2-soil1')).not.toHaveProperty('lorawanApplication');
    // Unbinding it is a no-op, not an error.
    expect((await patch('demo-xingfu-z2-soil1', { lorawanApplication: null })).statusCode).toBe(200);
  });

  it('answers 404 for an unknown device, and for a device outside a confined token\'s districts', async () => {
    const unknown = await patch('no-such-device', { lorawanApplication: OTHER_APP });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: 'not_found', message: 'no device no-such-device' });
    const outside = await patch('lora-1', { lorawanApplication: OTHER_APP }, confinedOperator);
    expect(outside.statusCode).toBe(404);
    expect(await get('lora-1')).not.toHaveProperty('lorawanApplication');
  });

  it('is undone by the next import of a file that says otherwise: the inventory decides, as for devEui', async () => {
    const id = 'demo-xingfu-z1-soil1';
    expect(await get(id)).toMatchObject({ lorawanApplication: DEMO_APP });
    expect((await patch(id, { lorawanApplication: OTHER_APP })).statusCode).toBe(200);
    // The export carries the API's binding, so export → edit → import keeps it ...
    const exported = (await t.app.api.inject({ url: '/api/v1/inventory', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body;
    expect(exported).toContain(OTHER_APP);
    // ... while importing the old file puts the file's binding back.
    const res = await t.app.api.inject({ method: 'PUT', url: '/api/v1/inventory', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: DEMO as object });
    expect((res.json() as { report: { totals: { updated: number } } }).report.totals.updated).toBe(1);
    expect(await get(id)).toMatchObject({ lorawanApplication: DEMO_APP });
  });
});
