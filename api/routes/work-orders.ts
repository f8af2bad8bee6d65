import { actorOf, allow } from '../auth.ts';
import { districtsOf } from '../scope.ts';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { WorkOrderService } from '../../alerts/work-orders/service.ts';
import { WorkOrder, WorkOrderEvent, WorkOrderFilter } from '../../alerts/work-orders/store.ts';
import { workOrdersToCsv } from '../../alerts/work-orders/csv.ts';
import type { WorkOrderAction } from '../../alerts/work-orders/machine.ts';
import { CodedError } from '../../lib/errors.ts';

const ErrorBody = z.object({ error: z.string(), message: z.string() });
const Id = z.object({ id: z.coerce.number().int().positive() });
/** The caller acts; `by` names someone the caller acts for (see actorOf). */
const by = z.string().min(1).max(100).optional();

/** Each action's body: who acts, and what the action needs. */
const BODIES = {
  assign: z.object({ by, assignee: z.string().min(1).max(100) }),
  // A POST without a body arrives as null: treat it as {} so the defaults apply.
  accept: z.object({ by }).nullish().transform((b) => b ?? {}),
  resolve: z.object({ by, note: z.string().trim().min(1).max(4000), photoUrl: z.url().optional() }),
  verify: z.object({
    by,
    note: z.string().max(4000).optional(),
    /** An admin verifying their own fix; recorded in the work order's history. */
    overrideSeparation: z.boolean().optional(),
  }).nullish().transform((b) => b ?? {}),
  reject: z.object({ by, note: z.string().trim().min(1).max(4000) }),
} as const;

const SUMMARIES: Record<keyof typeof BODIES, string> = {
  assign: 'An operator or admin assigns (or reassigns) the work order to a technician',
  accept: 'The technician accepts the work order (acknowledges its alert if still firing)',
  resolve: 'Record the fix: a note and optionally a photo URL',
  verify: 'An operator or admin other than the one who resolved it verifies the fix and closes the work order (销号); its alert is resolved. '
    + 'An admin may verify their own fix with overrideSeparation=true, recorded in the history',
  reject: 'An operator or admin finds the fix insufficient and sends it back to the technician',
};

/** Who may take each step (api/policy.ts states the same policy for the tests). */
const GUARDS: Record<keyof typeof BODIES, typeof allow[keyof typeof allow]> = {
  assign: allow.adminsOperators,
  accept: allow.adminsOperatorsTechnicians,
  resolve: allow.adminsOperatorsTechnicians,
  verify: allow.adminsOperators,
  reject: allow.adminsOperators,
};

export const workOrderRoutes: FastifyPluginAsyncZod<{ workOrders: WorkOrderService }> = async (app, opts) => {
  const security = [{ bearer: [] }];
  const readers = allow.adminsOperatorsTechniciansViewers;

  app.get('/work-orders', { onRequest: readers, config: { scope: { list: 'work-order' } }, schema: { summary: 'Work orders, newest first, with filters', security, querystring: WorkOrderFilter, response: { 200: z.array(WorkOrder) } } },
    async (request) => opts.workOrders.list(request.query, districtsOf(request)));

  app.get('/work-orders.csv', { onRequest: readers, config: { scope: { list: 'work-order' } }, schema: { summary: 'The ledger as CSV (same filters)', security, querystring: WorkOrderFilter } },
    async (request, reply) => reply.type('text/csv; charset=utf-8').header('Content-Disposition', 'attachment; filename="work-orders.csv"')
      .send(workOrdersToCsv(await opts.workOrders.list(request.query, districtsOf(request)))));

  app.get('/work-orders/:id', {
    onRequest: readers,
    config: { scope: { object: 'work-order' } },
    schema: { summary: 'One work order with its full history', security, params: Id, response: { 200: WorkOrder.extend({ history: z.array(WorkOrderEvent) }), 404: ErrorBody } },
  }, async (request) => {
    const wo = await opts.workOrders.get(request.params.id);
    if (!wo) throw new CodedError('not_found', `no work order ${request.params.id}`);
    return { ...wo, history: await opts.workOrders.history(wo.id) };
  });

  for (const action of Object.keys(BODIES) as Array<keyof typeof BODIES>) {
    app.post(`/work-orders/:id/${action}`, {
      onRequest: GUARDS[action],
      config: { scope: { object: 'work-order' } },
      schema: { summary: SUMMARIES[action], security, params: Id, body: BODIES[action], response: { 200: WorkOrder, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody } },
    }, async (request) => {
      const { by: onBehalfOf, overrideSeparation, ...rest } = request.body as { by?: string; overrideSeparation?: boolean } & Record<string, unknown>;
      if (overrideSeparation && request.principal?.role !== 'admin') throw new CodedError('forbidden', 'only an admin may override the separation of fix and verification');
      // Who signs a verification off signs as themselves; only an admin may enter it for someone.
      const actor = action === 'verify' && request.principal?.role !== 'admin' ? actorOf(request) : actorOf(request, onBehalfOf);
      const enteredBy = request.principal && request.principal.name !== actor ? request.principal.name : undefined;
      return opts.workOrders.act(request.params.id, { action, ...rest } as WorkOrderAction, actor, { overrideSeparation, ...(enteredBy === undefined ? {} : { enteredBy }) });
    });
  }
};
