import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { z } from 'zod';
import { sha256 } from '../registry/secrets.ts';
import type { Principal, Role } from '../contracts/access.ts';
import { createKeyedBuckets, type BucketLimits } from '../lib/token-bucket.ts';

declare module 'fastify' {
  interface FastifyInstance { gsAccess: AccessControl }
  interface FastifyRequest { principal: Principal | undefined }
}

export interface AccessDeps {
  /** The bootstrap token from GS_ADMIN_TOKEN (or the data dir): always an admin. */
  adminToken: string;
  resolveToken: (token: string) => Principal | undefined;
  /** A login session's principal and CSRF token, from the session cookie's value (api/session.ts). */
  resolveSession?: (id: string) => { principal: Principal; csrf: string } | undefined;
  now: () => number;
  /** Failed authentications allowed per client IP: a burst, then a slow refill. */
  failureLimits: BucketLimits;
  countFailure: (reason: 'missing_token' | 'invalid_token' | 'forbidden' | 'rate_limited') => void;
}

export type Authentication =
  /** `csrf`: set when a session cookie authenticated the request; state changes must echo it. */
  | { ok: true; principal: Principal; csrf?: string }
  | { ok: false; status: 401 | 429; error: string; message: string; retryAfterS?: number };

export type AccessControl = ReturnType<typeof createAccessControl>;

export function createAccessControl(deps: AccessDeps) {
  const bootstrap = Buffer.from(sha256(deps.adminToken), 'hex');
  const bootstrapPrincipal: Principal = { tokenId: 'bootstrap', name: 'admin', role: 'admin' };
  const failures = createKeyedBuckets(deps.failureLimits, deps.now, 50_000);

  return {
    authenticate(authorization: string | undefined, ip: string, cookieHeader?: string): Authentication {
      const token = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;
      if (!token) {
        // People log in (api/routes/session.ts); machines present bearer tokens, which win when both come.
        const sessionId = readCookie(cookieHeader, SESSION_COOKIE);
        const session = sessionId ? deps.resolveSession?.(sessionId) : undefined;
        if (session) return { ok: true, principal: session.principal, csrf: session.csrf };
        return { ok: false, status: 401, error: 'unauthorized', message: sessionId ? 'the session has ended: log in again' : 'an Authorization: Bearer token or a login session is required' };
      }
      // Compared as digests with timingSafeEqual: neither length nor content leaks through timing.
      if (timingSafeEqual(Buffer.from(sha256(token), 'hex'), bootstrap)) return { ok: true, principal: bootstrapPrincipal };
      const principal = deps.resolveToken(token);
      if (principal) return { ok: true, principal };
      const take = failures.take(ip);
      if (!take.ok) return { ok: false, status: 429, error: 'rate_limited', message: 'too many failed authentications from this address', retryAfterS: Math.ceil(take.retryAfterMs / 1000) };
      return { ok: false, status: 401, error: 'invalid_token', message: 'the bearer token is unknown or revoked' };
    },
    /** A failed login counts against the same per-address budget as a wrong token; false: over it. */
    takeFailure(ip: string): { ok: true } | { ok: false; retryAfterS: number } {
      const take = failures.take(ip);
      return take.ok ? { ok: true } : { ok: false, retryAfterS: Math.ceil(take.retryAfterMs / 1000) };
    },
    /**
     * An address past its failure budget may not try a password at all until it refills:
     * checked before the password is, since a budget that only changes the answer to a
     * wrong guess (401 → 429) still lets a right guess in, and so stops no guessing.
     */
    passwordTriesBlocked(ip: string): { retryAfterS: number } | undefined {
      const waitMs = failures.waitMs(ip);
      return waitMs > 0 ? { retryAfterS: Math.ceil(waitMs / 1000) } : undefined;
    },
    countFailure: deps.countFailure,
  };
}

/** The login session's cookie (HttpOnly, SameSite=Lax; api/routes/session.ts sets it). */
export const SESSION_COOKIE = 'gs_session';
/** The header a session's state-changing request carries its CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

/**
 * One cookie's value from a Cookie header. Written here rather than taking @fastify/cookie:
 * its major for fastify 5 (11) pulls cookie@2, which requires Node 22, and one cookie of
 * base64url characters needs no decoding.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A session's state change must carry its CSRF token (synchronizer token; a bearer token needs none: browsers never send it on their own). */
export function csrfHolds(request: FastifyRequest, csrf: string | undefined): boolean {
  if (csrf === undefined || SAFE_METHODS.has(request.method)) return true;
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(sha256(sent), 'hex');
  const b = Buffer.from(sha256(csrf), 'hex');
  return timingSafeEqual(a, b);
}

const GUARD_ROLES = Symbol('roles');
export type Guard = ((request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>) & { [GUARD_ROLES]: readonly Role[] };

/**
 * The access check a route declares: `onRequest: authorize(['admin', 'operator'])`.
 * Missing token 401, unknown or revoked token 401 (429 past the per-IP failure budget),
 * a role not in the list 403. The principal is left on `request.principal` for
 * district scoping. Wherever a route puts it, it runs first (see installAccessControl).
 */
export function authorize(roles: readonly Role[]): Guard {
  const guard = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const access = request.server.gsAccess;
    const result = access.authenticate(request.headers.authorization, request.ip, request.headers.cookie);
    if (!result.ok) {
      access.countFailure(result.status === 429 ? 'rate_limited' : result.error === 'unauthorized' ? 'missing_token' : 'invalid_token');
      if (result.retryAfterS !== undefined) void reply.header('Retry-After', String(result.retryAfterS));
      if (result.status === 401) void reply.header('WWW-Authenticate', result.error === 'invalid_token' ? 'Bearer error="invalid_token"' : 'Bearer');
      return reply.code(result.status).send({ error: result.error, message: result.message });
    }
    if (!csrfHolds(request, result.csrf)) {
      access.countFailure('forbidden');
      return reply.code(403).send({ error: 'csrf', message: `a change made with a login session needs its CSRF token in ${CSRF_HEADER}` });
    }
    if (!roles.includes(result.principal.role)) {
      access.countFailure('forbidden');
      return reply.code(403).send({ error: 'forbidden', message: `this route is for ${roles.join(', ')}; the token's role is ${result.principal.role}` });
    }
    request.principal = result.principal;
    return undefined;
  };
  return Object.assign(guard, { [GUARD_ROLES]: roles });
}

/**
 * The guards routes use, each named by exactly the roles it lets through, so a route's
 * options say who may call it. Which action each role may take is stated in api/policy.ts
 * (the intended policy, checked against the running app by test/integration/api/policy.test.ts).
 */
export const allow = {
  admins: authorize(['admin']),
  adminsOperators: authorize(['admin', 'operator']),
  adminsOperatorsTechnicians: authorize(['admin', 'operator', 'technician']),
  adminsOperatorsTechniciansViewers: authorize(['admin', 'operator', 'technician', 'viewer']),
  adminsOperatorsViewers: authorize(['admin', 'operator', 'viewer']),
  adminsOperatorsServices: authorize(['admin', 'operator', 'service']),
  everyRole: authorize(['admin', 'operator', 'technician', 'viewer', 'service']),
} as const;

const AuthError = z.object({ error: z.string(), message: z.string() });
const AUTH_RESPONSES = {
  401: AuthError.describe('No bearer token, or an unknown or revoked one'),
  403: AuthError.describe("The token's role may not use this route"),
  429: AuthError.describe('Too many failed authentications from this address; see Retry-After'),
};

const isGuard = (hook: unknown): hook is Guard => typeof hook === 'function' && GUARD_ROLES in hook;
const asList = (hooks: unknown): unknown[] => (hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]);

/**
 * Install the access control on the root instance, before any route. Its onRoute hook
 * moves each route's guard to the front of onRequest, so authentication precedes body
 * parsing and validation (an anonymous caller gets 401, never a 400 that describes the
 * schema), and writes the allowed roles into the OpenAPI operation as `x-roles`.
 */
export function installAccessControl(app: FastifyInstance, access: AccessControl): void {
  app.decorate('gsAccess', access);
  app.decorateRequest('principal', undefined);
  app.addHook('onRoute', (route: RouteOptions) => {
    const guards = [...asList(route.onRequest), ...asList(route.preValidation), ...asList(route.preHandler)].filter(isGuard);
    if (guards.length === 0) return;
    const strip = (hooks: unknown) => {
      const rest = asList(hooks).filter((h) => !isGuard(h));
      return (rest.length > 0 ? rest : undefined) as never;
    };
    route.preValidation = strip(route.preValidation);
    route.preHandler = strip(route.preHandler);
    route.onRequest = [...guards, ...asList(route.onRequest).filter((h) => !isGuard(h))] as never;
    const roles = guards.reduce<readonly Role[]>((allowed, g) => allowed.filter((r) => g[GUARD_ROLES].includes(r)), guards[0]?.[GUARD_ROLES] ?? []);
    const response = { ...AUTH_RESPONSES, ...(route.schema?.response as object | undefined) };
    route.schema = { ...route.schema, response, security: route.schema?.security ?? [{ bearer: [] }], 'x-roles': [...roles] } as RouteOptions['schema'];
  });
}

/**
 * Who acted, for the record: the authenticated caller. Admins, operators and services
 * may record an action for a named person (an operator entering a technician's fix from
 * a phone call); a technician or viewer always acts as themselves. A verification (销号)
 * is signed by the caller unless an admin enters it (api/routes/work-orders.ts).
 */
export function actorOf(request: FastifyRequest, onBehalfOf?: string): string {
  const principal = request.principal;
  if (!principal) return 'anonymous';
  return onBehalfOf && ['admin', 'operator', 'service'].includes(principal.role) ? onBehalfOf : principal.name;
}
