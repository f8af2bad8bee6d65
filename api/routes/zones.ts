import { actorOf, allow } from '../auth.ts';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { DECISION_ACTIONS } from '../../rules/irrigation/state.ts';
import { EffectiveValue } from '../../rules/irrigation/effective-settings.ts';
import { ZoneOverride } from '../../irrigation/store.ts';
import type { IrrigationEngine } from '../../irrigation/engine.ts';
import { ACTION_BODIES, Accepted, DecisionView, ErrorBody, type ActionName, type ZoneAnswer, type ZoneRequestName } from '../../contracts/zone-action.ts';
import { NOT_OWNER, irrigationView, notFoundBody, overrideProblem, performAction, viewDecision as view } from '../../irrigation/operator-actions.ts';

/**
 * Clustered: hands an action, a view or a settings change on a zone this node does not own to
 * the owner of its community and returns the owner's answer (cluster/zone-forward.ts); absent
 * in one process.
 */
export type ForwardZoneAction = (input: { communityId: string | undefined; zoneId: string; action: ZoneRequestName; body: unknown; by: string }) => Promise<ZoneAnswer>;

const Params = z.object({ id: z.string() });

export const zoneRoutes: FastifyPluginAsyncZod<{ irrigation: IrrigationEngine; forward?: ForwardZoneAction | undefined }> = async (app, opts) => {
  const { irrigation } = opts;
  // Operators and admins run the zones; every staff reader (a viewer checking the city's
  // watering, a technician at the valve) may look. A zone outside the caller's districts
  // answers 404 (config.scope).
  const secured = { onRequest: allow.adminsOperators, config: { scope: { object: 'zone' } } } as const;
  const readable = { onRequest: allow.adminsOperatorsTechniciansViewers, config: { scope: { object: 'zone' } } } as const;
  const notFound = notFoundBody;

  /** Clustered, a zone whose community another node owns: that node's answer (undefined: this node answers). */
  const fromOwner = async (zoneId: string, communityId: string, action: ZoneRequestName, body: unknown, by: string): Promise<ZoneAnswer | undefined> =>
    (irrigation.isOwned(zoneId) || !opts.forward ? undefined : opts.forward({ communityId, zoneId, action, body, by }));

  app.get('/zones/:id/irrigation', {
    ...readable,
    schema: {
      summary: 'A zone\'s irrigation view: the zone, its effective settings each with its source (default, deployment, fao56, plant_type, inventory, zone_override), its state, and the readings a decision would use now. Clustered: the owner of the zone\'s community answers (its memory is the current state); 503 owner_unavailable when it did not within 5 s',
      security: [{ bearer: [] }], params: Params,
      response: { 200: z.object({ zone: z.record(z.string(), z.unknown()), effective: z.record(z.string(), EffectiveValue), state: z.record(z.string(), z.unknown()), inputs: z.record(z.string(), z.unknown()) }), 404: ErrorBody, 503: ErrorBody },
    },
  }, async (request, reply) => {
    const view = irrigationView(irrigation, request.params.id);
    if (!view) return reply.code(404).send(notFound(request.params.id));
    const owners = await fromOwner(request.params.id, view.zone.communityId, 'irrigation-view', {}, actorOf(request));
    if (owners) return reply.code(owners.status as 200).send(owners.body as never);
    return view;
  });

  app.get('/zones/:id/decisions', {
    ...readable,
    schema: {
      summary: 'Every start, stop, skip and operator action of a zone, newest first, with its reason and inputs', security: [{ bearer: [] }], params: Params,
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), since: z.coerce.number().int().min(0).optional(), action: z.enum(DECISION_ACTIONS).optional() }),
      response: { 200: z.array(DecisionView), 404: ErrorBody },
    },
  }, async (request, reply) => {
    if (!irrigation.status(request.params.id)) return reply.code(404).send(notFound(request.params.id));
    return (await irrigation.decisions(request.params.id, request.query)).map(view);
  });

  app.get('/zones/:id/signals', {
    ...readable,
    schema: { summary: 'Alert signals the zone raised and cleared (valve_no_ack, valve_no_effect, watering_needed)', security: [{ bearer: [] }], params: Params,
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      response: { 200: z.array(z.object({ id: z.number(), at: z.number(), action: z.string(), kind: z.string(), severity: z.string().nullable(), message: z.string().nullable(), details: z.unknown() })), 404: ErrorBody } },
  }, async (request, reply) => {
    // 404 for an unknown zone, as its decisions answer: an empty list would tell a confined
    // caller which zones exist elsewhere (those answer 404 through config.scope).
    if (!irrigation.status(request.params.id)) return reply.code(404).send(notFound(request.params.id));
    return await irrigation.signals(request.params.id, request.query.limit);
  });

  const conflict = Accepted.extend({ error: z.string(), message: z.string() });
  const operate = (action: ActionName, summary: string) => {
    app.post(`/zones/:id/${action}`, {
      ...secured,
      schema: {
        summary: `${summary}. Clustered: a node that does not own the zone's community forwards the action to the owner and answers what it answered; 503 owner_unavailable when the owner did not answer within 5 s, taking_over while the owner is still reading the zone's state after a takeover (retry)`,
        security: [{ bearer: [] }], params: Params, body: ACTION_BODIES[action], response: { 202: Accepted, 400: ErrorBody, 404: ErrorBody, 409: conflict, 503: ErrorBody },
      },
    }, async (request, reply) => {
      const status = irrigation.status(request.params.id);
      if (!status) return reply.code(404).send(notFound(request.params.id));
      const by = actorOf(request);
      // The role and districts were checked above, on this node; the owner trusts the bus.
      let answer: ZoneAnswer;
      if (irrigation.isOwned(request.params.id)) answer = performAction(irrigation, request.params.id, action, request.body, by);
      else if (opts.forward) answer = await opts.forward({ communityId: status.zone.communityId, zoneId: request.params.id, action, body: request.body, by });
      else answer = { status: 409, body: NOT_OWNER };
      return reply.code(answer.status as 202).send(answer.body as never);
    });
  };

  operate('water-now', 'Open the zone\'s valve now (outside windows and thresholds); stops at the high threshold or after durationS');
  operate('skip-next', 'Skip the next watering that would otherwise start');
  operate('pause', 'Pause automatic watering for N days (0 resumes); a running watering stops');
  operate('forecast', 'Post a weather forecast for the zone: rain at or above the threshold, or frost, skips watering while it is valid');

  app.put('/zones/:id/irrigation', {
    ...secured,
    schema: { summary: 'Override the zone\'s band, windows or tunables (debounceS, maxRunS, ackTimeoutS, ...) over its configuration; a band the zone\'s soil cannot hold is refused (400). Clustered: set by the owner of the zone\'s community, which decides with it at once; 503 owner_unavailable when it did not answer within 5 s (the override may be set: read the zone\'s view)', security: [{ bearer: [] }],
      params: Params, body: ZoneOverride, response: { 200: z.object({ ok: z.literal(true) }), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody } },
  }, async (request, reply) => {
    const status = irrigation.status(request.params.id);
    if (!status) return reply.code(404).send(notFound(request.params.id));
    // The same judgement and words as the inventory import and the zone_infeasible alert.
    const problem = overrideProblem(status, request.body);
    if (problem) return reply.code(400).send({ error: 'bad_request', message: problem });
    const owners = await fromOwner(request.params.id, status.zone.communityId, 'irrigation-settings', request.body, actorOf(request));
    if (owners) return reply.code(owners.status as 200).send(owners.body as never);
    await irrigation.setOverride(request.params.id, request.body, actorOf(request));
    return { ok: true as const };
  });
};
