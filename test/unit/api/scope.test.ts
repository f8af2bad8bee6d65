import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { districtsOf, installScope, type ScopeResolvers } from '../../../api/scope.ts';
import type { Principal } from '../../../contracts/access.ts';

const DISTRICT_OF: Record<string, string | null> = { 'n-1': 'north', 's-1': 'south', 'nowhere-1': null };
const resolvers: ScopeResolvers = {
  object: { device: (id) => DISTRICT_OF[id] },
  item: { device: (d: { district: string | null }) => d.district },
  into: { device: (body: { district?: string }) => body.district },
};

/** A bare fastify with the scope check, a principal set from a header as the guard would, and one route per kind. */
async function appWith(routes: (app: FastifyInstance) => void) {
  const app = Fastify();
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    const districts = request.headers['x-districts'];
    request.principal = { tokenId: 't', name: 'caller', role: 'operator', ...(typeof districts === 'string' ? { districts: districts.split(',') } : {}) } satisfies Principal;
  });
  installScope(app, resolvers);
  routes(app);
  await app.ready();
  return app;
}

describe('installScope', () => {
  it('refuses to register a route that declares no scope, or a kind it cannot resolve', async () => {
    await expect(appWith((app) => app.get('/undeclared', async () => 'ok'))).rejects.toThrow(/GET \/undeclared declares no district scope/);
    await expect(appWith((app) => app.get('/zones/:id', { config: { scope: { object: 'zone' } } }, async () => 'ok'))).rejects.toThrow(/no district resolver for object kind zone/);
    await expect(appWith((app) => app.get('/alerts', { config: { scope: { list: 'alert' } } }, async () => []))).rejects.toThrow(/no district resolver for list kind alert/);
  });

  it('hides an object outside the districts (404); for a confined caller an id it cannot place is hidden too (fails closed)', async () => {
    const app = await appWith((a) => a.get('/devices/:id', { config: { scope: { object: 'device' } } }, async (request: FastifyRequest) => ({ id: (request.params as { id: string }).id })));
    const get = (id: string, districts?: string) => app.inject({ url: `/devices/${id}`, headers: districts ? { 'x-districts': districts } : {} });
    expect((await get('n-1', 'north')).statusCode).toBe(200);
    expect((await get('s-1', 'north')).json()).toEqual({ error: 'not_found', message: 'no device s-1' });
    expect((await get('nowhere-1', 'north')).statusCode).toBe(404);
    expect((await get('s-1')).statusCode).toBe(200);
    expect((await get('s-1', 'north,south')).statusCode).toBe(200);
    // Fail closed: an id the resolver cannot place may be one spelled as the schema would
    // coerce it (1.0 for 1), so a confined caller gets the hidden answer, never the handler.
    expect((await get('ghost', 'north')).json()).toEqual({ error: 'not_found', message: 'no device ghost' });
    expect((await get('ghost')).statusCode).toBe(200); // unconfined: the handler decides what a missing one answers
  });

  it('drops list items outside the districts, whatever the handler returned', async () => {
    const rows = [{ id: 'n-1', district: 'north' }, { id: 's-1', district: 'south' }, { id: 'x', district: null }];
    const app = await appWith((a) => {
      a.get('/devices', { config: { scope: { list: 'device' } } }, async () => rows);
      a.get('/wrapped', { config: { scope: { list: 'device', items: 'rows' } } }, async () => ({ month: 'm', rows }));
    });
    expect((await app.inject({ url: '/devices', headers: { 'x-districts': 'north' } })).json()).toEqual([rows[0]]);
    expect((await app.inject({ url: '/devices' })).json()).toEqual(rows);
    expect((await app.inject({ url: '/wrapped', headers: { 'x-districts': 'south' } })).json()).toEqual({ month: 'm', rows: [rows[1]] });
  });

  it('refuses a rendered list (CSV) to a confined caller unless the handler asked for the districts (fails closed)', async () => {
    const rows = [{ id: 'n-1', district: 'north' }, { id: 's-1', district: 'south' }];
    const csv = (list: typeof rows) => list.map((r) => r.id).join('\n');
    const app = await appWith((a) => {
      a.get('/forgot.csv', { config: { scope: { list: 'device' } } }, async (_request, reply) => reply.type('text/csv').send(csv(rows)));
      a.get('/scoped.csv', { config: { scope: { list: 'device' } } }, async (request, reply) => {
        const districts = districtsOf(request);
        return reply.type('text/csv').send(csv(rows.filter((r) => !districts || districts.includes(r.district))));
      });
    });
    const forgot = await app.inject({ url: '/forgot.csv', headers: { 'x-districts': 'north' } });
    expect(forgot.statusCode).toBe(500);
    expect(forgot.json()).toEqual({ error: 'internal', message: "GET /forgot.csv did not apply the caller's district scope" });
    expect((await app.inject({ url: '/forgot.csv' })).body).toBe('n-1\ns-1'); // unconfined: the whole city
    expect((await app.inject({ url: '/scoped.csv', headers: { 'x-districts': 'north' } })).body).toBe('n-1');
  });

  it('refuses creating in a place outside the districts (403)', async () => {
    const app = await appWith((a) => a.post('/devices', { config: { scope: { into: 'device' } } }, async (_request: FastifyRequest, reply: FastifyReply) => reply.code(201).send({ ok: true })));
    const post = (body: object) => app.inject({ method: 'POST', url: '/devices', headers: { 'x-districts': 'north' }, payload: body });
    expect((await post({ district: 'north' })).statusCode).toBe(201);
    expect((await post({ district: 'south' })).statusCode).toBe(403);
    expect((await post({})).statusCode).toBe(403);
  });

  it('documents each route\'s scope in its schema as x-scope', async () => {
    const seen: unknown[] = [];
    const app = Fastify();
    installScope(app, resolvers);
    app.addHook('onRoute', (route) => { seen.push((route.schema as Record<string, unknown> | undefined)?.['x-scope']); });
    app.get('/tokens', { config: { scope: { global: 'no place' } } }, async () => []);
    await app.ready();
    expect(seen).toContain('global');
  });
});
