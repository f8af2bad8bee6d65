import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ServiceAccountCreate, ServiceAccountView } from '../../contracts/access.ts';
import type { ServiceAccounts } from '../../registry/service-accounts.ts';
import { allow } from '../auth.ts';

const ErrorBody = z.object({ error: z.string(), message: z.string() });
const Id = z.object({ id: z.string().min(1).max(64) });

export interface ServiceAccountRouteDeps {
  accounts: ServiceAccounts;
  /** Drop the account's live MQTT connections (its secret or standing changed). */
  disconnect: (accountId: string) => void;
}

/** MQTT service accounts (LoRaWAN network servers, MQTT admins): admins only. */
export const serviceAccountRoutes: FastifyPluginAsyncZod<ServiceAccountRouteDeps> = async (app, opts) => {
  const adminOnly = { onRequest: allow.admins, config: { scope: { global: 'MQTT service accounts belong to no place' } } } as const;
  const WithSecret = z.object({ account: ServiceAccountView, secret: z.string() });

  app.post('/service-accounts', {
    ...adminOnly,
    schema: {
      summary: 'Create an MQTT service account confined to its topic trees; the secret is returned once',
      tags: ['access'],
      body: ServiceAccountCreate,
      response: { 201: WithSecret, 409: ErrorBody },
    },
  }, async (request, reply) => reply.code(201).send(await opts.accounts.create(request.body)));

  app.get('/service-accounts', {
    ...adminOnly,
    schema: { summary: 'All MQTT service accounts', tags: ['access'], response: { 200: z.array(ServiceAccountView) } },
  }, async () => opts.accounts.list());

  app.post('/service-accounts/:id/secret', {
    ...adminOnly,
    schema: { summary: 'Rotate a service account secret; live connections are dropped', tags: ['access'], params: Id, response: { 200: WithSecret, 404: ErrorBody } },
  }, async (request) => {
    const result = await opts.accounts.rotate(request.params.id);
    opts.disconnect(request.params.id);
    return result;
  });

  app.post('/service-accounts/:id/disable', {
    ...adminOnly,
    schema: { summary: 'Disable a service account; live connections are dropped', tags: ['access'], params: Id, response: { 200: ServiceAccountView, 404: ErrorBody } },
  }, async (request) => {
    const account = opts.accounts.setDisabled(request.params.id, true);
    opts.disconnect(request.params.id);
    return account;
  });

  app.post('/service-accounts/:id/enable', {
    ...adminOnly,
    schema: { summary: 'Enable a service account again', tags: ['access'], params: Id, response: { 200: ServiceAccountView, 404: ErrorBody } },
  }, async (request) => opts.accounts.setDisabled(request.params.id, false));

  app.delete('/service-accounts/:id', {
    ...adminOnly,
    schema: { summary: 'Delete a service account; live connections are dropped', tags: ['access'], params: Id, response: { 204: z.null(), 404: ErrorBody } },
  }, async (request, reply) => {
    opts.accounts.remove(request.params.id);
    opts.disconnect(request.params.id);
    return reply.code(204).send(null);
  });
};
