import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Principal } from '../contracts/access.ts';

/**
 * District scope, as one mechanism. A token may be confined to districts; everything that
 * belongs to a place is then visible only inside them. Each route says in
 * `config.scope` what it touches, and `installScope` enforces it for every route, so a
 * route cannot forget the check: a route without a declaration fails at registration.
 *
 * - `{ global: why }`: touches nothing that belongs to a place (tokens, service
 *   accounts, probes, the whole-city inventory that only unconfined admins use).
 * - `{ object: kind }`: one object named by a path parameter (`id` unless `param` says
 *   otherwise). Outside the caller's districts it answers 404 before the handler runs, the
 *   same answer as for an object that does not exist, so existence does not leak.
 * - `{ list: kind }`: a list. The handler passes `districtsOf(request)` to its query (so a
 *   `limit` counts visible rows), and every item of the JSON answer (or of its `items`
 *   field) outside the caller's districts is dropped before serialization, whatever the
 *   handler did. A rendered answer (a CSV string) cannot be filtered after the fact, so
 *   for a confined caller such a route must have asked `districtsOf(request)`: if neither
 *   the handler asked nor the JSON filter ran, the answer is replaced by a 500 (fail closed).
 * - `{ into: kind }`: creates something in a place the body names; a place outside the
 *   caller's districts (or none, for a confined caller) is refused with 403.
 *
 * Objects without a district (a device not placed yet, a silence by kind only) lie outside
 * every confinement: only unconfined tokens see them.
 */
export const OBJECT_KINDS = ['device', 'zone', 'facility', 'alert', 'work-order', 'notification', 'silence'] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];
export const LIST_KINDS = ['device', 'alert', 'work-order', 'notification', 'silence', 'dead-letter', 'scorecard-row'] as const;
export type ListKind = (typeof LIST_KINDS)[number];
export const INTO_KINDS = ['device', 'silence'] as const;
export type IntoKind = (typeof INTO_KINDS)[number];

export type ScopeDeclaration =
  | { global: string }
  | { object: ObjectKind; param?: string }
  | { list: ListKind; items?: string }
  | { into: IntoKind };

declare module 'fastify' {
  interface FastifyContextConfig { scope?: ScopeDeclaration }
}

/**
 * `undefined`: no such object (the handler answers its own 404); `null`: it exists in no district.
 * A promise where the object is in the shared store (alerts and work orders: SQLite or PostgreSQL).
 */
export type DistrictOfObject = (id: string) => string | null | undefined | Promise<string | null | undefined>;

/** How the API finds the district of each kind of thing; given by buildApi from its services. */
export interface ScopeResolvers {
  object: Partial<Record<ObjectKind, DistrictOfObject>>;
  /** The district of one item of a list answer. */
  item: Partial<Record<ListKind, (item: never) => string | null | undefined | Promise<string | null | undefined>>>;
  /** The district of the place a creating request's body names (undefined: it names none). */
  into: Partial<Record<IntoKind, (body: never) => string | null | undefined>>;
}

/** Each kind's name in a 404, worded as its handler words a missing one, so the two answers are the same. */
const LABELS: Record<ObjectKind, string> = {
  device: 'device', zone: 'zone', facility: 'facility', alert: 'alert', 'work-order': 'work order', notification: 'abandoned notification', silence: 'silence',
};

/** Confined tokens see only their districts; a thing without a district is outside every confinement. */
export function canAccessDistrict(principal: Principal | undefined, districtId: string | null | undefined): boolean {
  if (!principal?.districts) return true;
  return districtId !== undefined && districtId !== null && principal.districts.includes(districtId);
}

/** Requests whose list answer was put in scope, by the handler's query or by the JSON filter. */
const scoped = new WeakSet<FastifyRequest>();

/** The caller's districts for a list query: undefined = the whole city. Asking counts as scoping the answer. */
export function districtsOf(request: FastifyRequest): readonly string[] | undefined {
  scoped.add(request);
  return request.principal?.districts;
}

const asList = (hooks: unknown): unknown[] => (hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]);

function describe(scope: ScopeDeclaration): string {
  if ('global' in scope) return 'global';
  if ('object' in scope) return `object:${scope.object}`;
  if ('list' in scope) return `list:${scope.list}`;
  return `into:${scope.into}`;
}

type Enforcer = { stage: 'preValidation' | 'preHandler' | 'preSerialization' | 'onSend'; hook: unknown };

/** The hooks that enforce one route's declaration (none for a global route). */
function enforcersOf(route: RouteOptions, scope: ScopeDeclaration, resolvers: ScopeResolvers): Enforcer | Enforcer[] | undefined {
  const where = `${String(route.method)} ${route.url}`;
  if ('global' in scope) return undefined;
  if ('object' in scope) {
    const resolve = resolvers.object[scope.object];
    if (!resolve) throw new Error(`${where}: no district resolver for object kind ${scope.object}`);
    const param = scope.param ?? 'id';
    // preValidation: a hidden object answers 404 whatever the body, as a missing one would.
    const hook = async (request: FastifyRequest, reply: FastifyReply) => {
      if (!request.principal?.districts) return;
      const id = String((request.params as Record<string, unknown>)[param] ?? '');
      // Fail closed: an id the resolver cannot find (a missing object, or one spelled as the
      // route's schema would coerce it: `1.0`, `0x1`, `+1`) is a 404 for a confined caller too.
      if (!canAccessDistrict(request.principal, await resolve(id))) {
        return reply.code(404).send({ error: 'not_found', message: `no ${LABELS[scope.object]} ${id}` });
      }
    };
    return { stage: 'preValidation', hook };
  }
  if ('list' in scope) {
    const districtOf = resolvers.item[scope.list] as ((item: unknown) => string | null | undefined | Promise<string | null | undefined>) | undefined;
    if (!districtOf) throw new Error(`${where}: no district resolver for list kind ${scope.list}`);
    const hook = async (request: FastifyRequest, _reply: FastifyReply, payload: unknown) => {
      if (!request.principal?.districts) return payload;
      scoped.add(request);
      const keep = async (items: unknown) => {
        if (!Array.isArray(items)) return items;
        const districts = await Promise.all(items.map((item) => districtOf(item)));
        return items.filter((_item, i) => canAccessDistrict(request.principal, districts[i]));
      };
      if (scope.items === undefined) return keep(payload);
      return payload && typeof payload === 'object' ? { ...payload, [scope.items]: await keep((payload as Record<string, unknown>)[scope.items]) } : payload;
    };
    // onSend: a string answer skipped preSerialization; unless its handler scoped it, refuse it.
    const failClosed = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      if (!request.principal?.districts || scoped.has(request) || reply.statusCode >= 400) return payload;
      request.log.error({ route: where }, 'list route answered a confined caller without applying its district scope');
      reply.code(500).type('application/json; charset=utf-8');
      return JSON.stringify({ error: 'internal', message: `${where} did not apply the caller's district scope` });
    };
    return [{ stage: 'preSerialization', hook }, { stage: 'onSend', hook: failClosed }];
  }
  const placeOf = resolvers.into[scope.into] as ((body: unknown) => string | null | undefined) | undefined;
  if (!placeOf) throw new Error(`${where}: no district resolver for into kind ${scope.into}`);
  // preHandler: the body is validated, so the place it names is well-formed.
  const hook = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.principal?.districts) return;
    if (!canAccessDistrict(request.principal, placeOf(request.body))) {
      return reply.code(403).send({ error: 'forbidden', message: `this token may create a ${scope.into} only in a place within its districts` });
    }
  };
  return { stage: 'preHandler', hook };
}

/**
 * Install the scope check on the root instance, after installAccessControl (the principal
 * is settled by the route's guard, in onRequest) and before any route. Routes under
 * `exempt` prefixes (the docs UI a plugin registers) need no declaration.
 */
export function installScope(app: FastifyInstance, resolvers: ScopeResolvers, exempt: readonly string[] = ['/docs']): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    if (exempt.some((prefix) => route.url === prefix || route.url.startsWith(`${prefix}/`))) return;
    const scope = route.config?.scope;
    if (!scope) throw new Error(`${String(route.method)} ${route.url} declares no district scope (config.scope): see api/scope.ts`);
    for (const enforcer of asList(enforcersOf(route, scope, resolvers)) as Enforcer[]) {
      route[enforcer.stage] = [enforcer.hook, ...asList(route[enforcer.stage])] as never;
    }
    route.schema = { ...route.schema, 'x-scope': describe(scope) } as RouteOptions['schema'];
  });
}
