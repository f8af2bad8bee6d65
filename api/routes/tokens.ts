import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { TokenCreate, TokenView } from '../../contracts/access.ts';
import type { TokenStore } from '../../registry/tokens.ts';
import { allow } from '../auth.ts';

const ErrorBody = z.object({ error: z.string(), message: z.string() });

/** API tokens: created and revoked by admins; the token itself is shown once. */
export const tokenRoutes: FastifyPluginAsyncZod<{ tokens: TokenStore }> = async (app, opts) => {
  const adminOnly = { onRequest: allow.admins, config: { scope: { global: 'API tokens belong to no place' } } } as const;

  app.post('/tokens', {
    ...adminOnly,
    schema: {
      summary: 'Create an API token; the token is returned once and only its SHA-256 is kept',
      tags: ['access'],
      body: TokenCreate,
      response: { 201: z.object({ token: TokenView, secret: z.string() }) },
    },
  }, async (request, reply) => reply.code(201).send(opts.tokens.create(request.body)));

  app.get('/tokens', {
    ...adminOnly,
    schema: { summary: 'All API tokens, revoked ones included (never their secrets)', tags: ['access'], response: { 200: z.array(TokenView) } },
  }, async () => opts.tokens.list());

  app.delete('/tokens/:id', {
    ...adminOnly,
    schema: {
      summary: 'Revoke an API token: the next request with it is refused',
      tags: ['access'],
      params: z.object({ id: z.string().min(1).max(64) }),
      response: { 200: TokenView, 404: ErrorBody },
    },
  }, async (request) => opts.tokens.revoke(request.params.id));
};
