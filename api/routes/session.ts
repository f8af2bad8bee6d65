import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Role } from '../../contracts/access.ts';
import { Login, PasswordChange, UserCreate, UserView } from '../../contracts/user.ts';
import { principalOf, userTokenId, SESSION_TTL_MS, type UserStore } from '../../registry/users.ts';
import { CodedError } from '../../lib/errors.ts';
import { allow, readCookie, SESSION_COOKIE } from '../auth.ts';

const ErrorBody = z.object({ error: z.string(), message: z.string() });
const Me = z.object({ name: z.string(), role: Role, districts: z.array(z.string()).optional(), csrfToken: z.string().optional() });
const global = { scope: { global: 'people log in city-wide; their districts confine what they then see' } } as const;

export interface SessionRouteOptions {
  users: UserStore;
  /** Secure cookies when the public URL is https. */
  secureCookie: boolean;
}

/** 429 when the caller's address is past its failure budget (api/auth.ts passwordTriesBlocked); undefined: it may try. */
function rateLimited(request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
  const blocked = request.server.gsAccess.passwordTriesBlocked(request.ip);
  if (!blocked) return undefined;
  request.server.gsAccess.countFailure('rate_limited');
  return reply.code(429).header('Retry-After', String(blocked.retryAfterS)).send({ error: 'rate_limited', message: 'too many failed password attempts from this address' });
}

/** A wrong password spends the address's failure budget; the 429 when this one was over it. */
function countWrongPassword(request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
  const access = request.server.gsAccess;
  const take = access.takeFailure(request.ip);
  access.countFailure(take.ok ? 'invalid_token' : 'rate_limited');
  return take.ok ? undefined : reply.code(429).header('Retry-After', String(take.retryAfterS)).send({ error: 'rate_limited', message: 'too many failed password attempts from this address' });
}

/**
 * People log in with a name and password and get a session cookie: HttpOnly (no script
 * reads it), SameSite=Lax (sent when a technician opens a link from a chat app, not on a
 * cross-site POST), Secure behind https. Every state change made with it carries the
 * session's CSRF token (api/auth.ts). Failed logins spend the same per-address budget as
 * wrong bearer tokens. Admins create users; each user changes their own password.
 */
export const sessionRoutes: FastifyPluginAsyncZod<SessionRouteOptions> = async (app, opts) => {
  const { users } = opts;
  const cookie = (value: string, maxAgeS: number) =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeS}${opts.secureCookie ? '; Secure' : ''}`;

  app.post('/session', {
    // During a PostgreSQL outage people still log in: the session holds on this node, reaches the others once shipped.
    config: { ...global, registryShipping: 'eventual' },
    schema: {
      summary: 'Log in with name and password: sets the session cookie and returns the CSRF token its changes must carry (X-CSRF-Token)', tags: ['access'],
      body: Login, response: { 200: Me, 401: ErrorBody, 429: ErrorBody },
    },
  }, async (request, reply) => {
    const blocked = rateLimited(request, reply);
    if (blocked) return blocked;
    const user = await users.check(request.body.name, request.body.password);
    if (!user) {
      const over = countWrongPassword(request, reply);
      return over ?? reply.code(401).send({ error: 'invalid_login', message: 'unknown name or wrong password' });
    }
    const session = users.sessions.start(user.name);
    void reply.header('Set-Cookie', cookie(session.id, Math.floor(SESSION_TTL_MS / 1000)));
    const { tokenId: _t, ...me } = principalOf(user);
    return { ...me, csrfToken: session.csrf };
  });

  app.get('/session', {
    onRequest: allow.everyRole, config: global,
    schema: { summary: 'Who is calling: name, role, districts (and the session\'s CSRF token when a login session calls)', tags: ['access'], response: { 200: Me } },
  }, async (request) => {
    const { tokenId: _t, ...me } = request.principal!;
    const id = readCookie(request.headers.cookie, SESSION_COOKIE);
    const session = id && !request.headers.authorization ? users.sessions.resolve(id) : undefined;
    return { ...me, ...(session ? { csrfToken: session.csrf } : {}) };
  });

  app.delete('/session', {
    config: global,
    schema: { summary: 'Log out: ends the session and clears its cookie (nothing to do without one)', tags: ['access'], response: { 204: z.null() } },
  }, async (request, reply) => {
    const id = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (id) users.sessions.end(id);
    return reply.code(204).header('Set-Cookie', cookie('', 0)).send(null);
  });

  app.post('/users', {
    onRequest: allow.admins, config: global,
    schema: { summary: 'Create a user who logs in to the web pages (role and districts as an API token\'s)', tags: ['access'], body: UserCreate, response: { 201: UserView, 409: ErrorBody } },
  }, async (request, reply) => reply.code(201).send(await users.create(request.body)));

  app.get('/users', {
    onRequest: allow.admins, config: global,
    schema: { summary: 'All users (never their password hashes)', tags: ['access'], response: { 200: z.array(UserView) } },
  }, async () => users.list());

  app.post('/users/:name/password', {
    onRequest: allow.adminsOperatorsTechniciansViewers, config: global,
    schema: {
      summary: 'Change a password: anyone their own, an admin too, with the current one; an admin another user\'s without it (a reset); every session of the user ends',
      tags: ['access'], params: z.object({ name: z.string() }), body: PasswordChange, response: { 204: z.null(), 403: ErrorBody, 404: ErrorBody },
    },
  }, async (request, reply) => {
    const { name } = request.params;
    const principal = request.principal!;
    // Their own password: every user, an admin too, gives the current one, so a session taken
    // from an admin cannot take the account over by a "reset". An admin's bearer token is a
    // machine, not the person: it resets (the recovery path when an admin forgot theirs).
    const own = principal.name === name && (principal.role !== 'admin' || principal.tokenId === userTokenId(name));
    if (!own && principal.role !== 'admin') throw new CodedError('forbidden', 'a user changes only their own password; an admin resets others');
    if (own) {
      // The current password is a guess like a login's: the same per-address budget, so a
      // session taken from someone cannot be used to guess their password without limit.
      const blocked = rateLimited(request, reply);
      if (blocked) return blocked;
      if (!request.body.currentPassword || !(await users.check(name, request.body.currentPassword))) {
        return countWrongPassword(request, reply) ?? reply.code(403).send({ error: 'forbidden', message: 'the current password is wrong' });
      }
    }
    await users.setPassword(name, request.body.newPassword);
    return reply.code(204).send(null);
  });
};
