import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { allow } from '../auth.ts';
import { districtsOf } from '../scope.ts';
import type { Clock } from '../../lib/clock.ts';
import { OUTBOX_STATES, OutboxQuery, type AlertDistricts, type Outbox } from '../../notify/outbox.ts';
import { NewSilence, SilenceView, type SilenceStore } from '../../notify/silences.ts';

const NotificationView = z.object({
  id: z.number(),
  createdAt: z.string(),
  team: z.string(),
  audience: z.enum(['team', 'supervisor']),
  channel: z.string(),
  channelType: z.string(),
  alertIds: z.array(z.number()),
  reasons: z.array(z.string()),
  title: z.string(),
  state: z.enum(OUTBOX_STATES),
  attempts: z.number(),
  nextAttemptAt: z.string().nullable(),
  lastError: z.string().nullable(),
  sentAt: z.string().nullable(),
});

const ErrorBody = z.object({ error: z.string(), message: z.string() });

export interface NotificationRouteDeps {
  outbox: Outbox;
  /** The alerts' districts, from the alert service (its store: SQLite, or PostgreSQL on a clustered node). */
  alertDistricts: AlertDistricts;
  silences: SilenceStore;
  clock: Clock;
}

export const notificationRoutes: FastifyPluginAsyncZod<NotificationRouteDeps> = async (app, opts) => {
  app.get(
    '/notifications',
    {
      onRequest: allow.adminsOperators,
      config: { scope: { list: 'notification' } },
      schema: {
        summary: 'Notification deliveries, newest first: state, attempts and the last error per channel (never the channel secrets)',
        security: [{ bearer: [] }],
        querystring: OutboxQuery,
        response: { 200: z.array(NotificationView) },
      },
    },
    async (request) => {
      const districts = districtsOf(request);
      return districts ? opts.outbox.listInDistricts(request.query, districts, opts.alertDistricts) : opts.outbox.list(request.query);
    },
  );

  app.post(
    '/notifications/:id/retry',
    {
      onRequest: allow.adminsOperators,
      config: { scope: { object: 'notification' } },
      schema: {
        summary: 'Queue a notification that was given up on for a fresh round of attempts (after fixing the endpoint)',
        security: [{ bearer: [] }],
        params: z.object({ id: z.coerce.number().int().min(1) }),
        response: { 202: z.object({ id: z.number(), state: z.literal('pending') }), 404: ErrorBody },
      },
    },
    async (request, reply) => {
      if (!await opts.outbox.requeue(request.params.id, opts.clock.now())) {
        return reply.code(404).send({ error: 'not_found', message: `no abandoned notification ${request.params.id}` });
      }
      return reply.code(202).send({ id: request.params.id, state: 'pending' as const });
    },
  );

  app.post(
    '/silences',
    {
      onRequest: allow.adminsOperators,
      config: { scope: { into: 'silence' } },
      schema: {
        summary: 'Silence notifications for a maintenance window (by community, subject and/or kind); held items go out after it if still firing. '
          + 'A token confined to districts must name a community within them (403 otherwise)',
        security: [{ bearer: [] }],
        body: NewSilence,
        response: { 201: SilenceView, 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const now = opts.clock.now();
      const ends = Date.parse(request.body.endsAt);
      const starts = request.body.startsAt ? Date.parse(request.body.startsAt) : now;
      if (ends <= starts || ends <= now) return reply.code(400).send({ error: 'bad_request', message: 'endsAt must be after startsAt and in the future' });
      return reply.code(201).send(await opts.silences.create(request.body, now));
    },
  );

  app.get(
    '/silences',
    {
      onRequest: allow.adminsOperators,
      config: { scope: { list: 'silence' } },
      schema: {
        summary: 'Silences: active and scheduled ones, plus ended ones with expired=true',
        security: [{ bearer: [] }],
        querystring: z.strictObject({ expired: z.enum(['true', 'false']).default('false') }),
        response: { 200: z.array(SilenceView) },
      },
    },
    async (request) => opts.silences.list(opts.clock.now(), request.query.expired === 'true'),
  );

  app.delete(
    '/silences/:id',
    {
      onRequest: allow.adminsOperators,
      config: { scope: { object: 'silence' } },
      schema: {
        summary: 'End a silence now by deleting it',
        security: [{ bearer: [] }],
        params: z.object({ id: z.coerce.number().int().min(1) }),
        response: { 204: z.null(), 404: ErrorBody },
      },
    },
    async (request, reply) => {
      if (!await opts.silences.remove(request.params.id)) return reply.code(404).send({ error: 'not_found', message: `no silence ${request.params.id}` });
      return reply.code(204).send(null);
    },
  );
};
