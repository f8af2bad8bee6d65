import { actorOf, allow } from '../auth.ts';
import { districtsOf } from '../scope.ts';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AlertFilter, AlertRecord, CommentRecord, TransitionRecord } from '../../alerts/alert-store.ts';
import type { AlertService } from '../../alerts/alert-service.ts';
import type { WorkOrderService } from '../../alerts/work-orders/service.ts';
import { WorkOrder } from '../../alerts/work-orders/store.ts';
import { CodedError } from '../../lib/errors.ts';

const ErrorBody = z.object({ error: z.string(), message: z.string() });
const Id = z.object({ id: z.coerce.number().int().positive() });
/** The caller acts; `by` names someone the caller acts for (see actorOf). */
const Actor = z.object({ by: z.string().min(1).max(100).optional() });
/** A POST without a body arrives as null: treat it as {}. */
const AckBody = Actor.extend({ note: z.string().max(2000).optional() }).nullish().transform((b) => b ?? {});

export const alertRoutes: FastifyPluginAsyncZod<{ alerts: AlertService; workOrders: WorkOrderService }> = async (app, opts) => {
  const one = { scope: { object: 'alert' } } as const;
  const security = [{ bearer: [] }];
  const mustGet = async (id: number) => {
    const a = await opts.alerts.get(id);
    if (!a) throw new CodedError('not_found', `no alert ${id}`);
    return a;
  };

  app.get('/alerts', { onRequest: allow.adminsOperatorsTechniciansViewers, config: { scope: { list: 'alert' } }, schema: { summary: 'Alerts, newest first', security, querystring: AlertFilter, response: { 200: z.array(AlertRecord) } } },
    async (request) => opts.alerts.list(request.query, districtsOf(request)));

  app.get('/alerts/:id', {
    onRequest: allow.adminsOperatorsTechniciansViewers,
    config: one,
    schema: {
      summary: 'One alert with its transitions, comments and work order', security, params: Id,
      response: { 200: AlertRecord.extend({ transitions: z.array(TransitionRecord), comments: z.array(CommentRecord), workOrder: WorkOrder.nullable() }), 404: ErrorBody },
    },
  }, async (request) => {
    const a = await mustGet(request.params.id);
    const [transitions, comments, workOrder] = await Promise.all([opts.alerts.transitions(a.id), opts.alerts.comments(a.id), opts.workOrders.forAlert(a.id)]);
    return { ...a, transitions, comments, workOrder: workOrder ?? null };
  });

  app.post('/alerts/:id/ack', {
    onRequest: allow.adminsOperatorsTechnicians,
    config: one,
    schema: { summary: 'Acknowledge a firing alert', security, params: Id, body: AckBody, response: { 200: AlertRecord, 404: ErrorBody, 409: ErrorBody } },
  }, async (request) => opts.alerts.acknowledge(request.params.id, { ...request.body, by: actorOf(request, request.body.by) }));

  app.post('/alerts/:id/resolve', {
    onRequest: allow.adminsOperators,
    config: one,
    schema: {
      summary: 'An operator or admin resolves an alert by hand (facility damage needs a note and is resolved by closing its work order)',
      security, params: Id, body: AckBody, response: { 200: AlertRecord, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
    },
  }, async (request) => opts.alerts.resolve(request.params.id, { ...request.body, by: actorOf(request, request.body.by) }));

  app.post('/alerts/:id/comments', {
    onRequest: allow.adminsOperatorsTechnicians,
    config: one,
    schema: { summary: 'Comment on an alert (and so on its work order)', security, params: Id, body: Actor.extend({ text: z.string().trim().min(1).max(4000) }), response: { 201: CommentRecord, 404: ErrorBody } },
  }, async (request, reply) => reply.code(201).send(await opts.alerts.comment(request.params.id, { ...request.body, by: actorOf(request, request.body.by) })));
};
