import { actorOf, allow } from '../auth.ts';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { DECISION_ACTIONS, type Decision } from '../../rules/irrigation/state.ts';
import { validateWindow } from '../../rules/irrigation/windows.ts';
import { bandProblem } from '../../contracts/zone-feasibility.ts';
import { EffectiveValue } from '../../rules/irrigation/effective-settings.ts';
import { ZoneOverride } from '../../irrigation/store.ts';
import type { IrrigationEngine } from '../../irrigation/engine.ts';

const ErrorBody = z.object({ error: z.string(), message: z.string() });
const Params = z.object({ id: z.string() });

const DecisionView = z.object({
  id: z.number().optional(),
  zoneId: z.string(),
  at: z.number(),
  time: z.string(),
  action: z.enum(DECISION_ACTIONS),
  reason: z.string(),
  mode: z.string(),
  runId: z.string().optional(),
  actor: z.string().optional(),
  durationS: z.number().optional(),
  volumeL: z.number().optional(),
  inputs: z.record(z.string(), z.unknown()),
});
const view = (d: Decision & { id?: number }): z.infer<typeof DecisionView> => ({ ...d, time: new Date(d.at).toISOString(), inputs: { ...d.inputs } });
const Accepted = z.object({ decisions: z.array(DecisionView) });

/** Decisions that refuse an operator's request rather than act on it. */
const REFUSALS = new Set(['already_running', 'no_valve', 'freeze', 'budget', 'paused', 'seasonal_off']);

export const zoneRoutes: FastifyPluginAsyncZod<{ irrigation: IrrigationEngine }> = async (app, opts) => {
  const { irrigation } = opts;
  // Operators and admins run the zones; every staff reader (a viewer checking the city's
  // watering, a technician at the valve) may look. A zone outside the caller's districts
  // answers 404 (config.scope).
  const secured = { onRequest: allow.adminsOperators, config: { scope: { object: 'zone' } } } as const;
  const readable = { onRequest: allow.adminsOperatorsTechniciansViewers, config: { scope: { object: 'zone' } } } as const;
  const notFound = (id: string) => ({ error: 'not_found', message: `no zone ${id}` });

  app.get('/zones/:id/irrigation', {
    ...readable,
    schema: {
      summary: 'A zone\'s irrigation view: the zone, its effective settings each with its source (default, deployment, fao56, plant_type, inventory, zone_override), its state, and the readings a decision would use now',
      security: [{ bearer: [] }], params: Params,
      response: { 200: z.object({ zone: z.record(z.string(), z.unknown()), effective: z.record(z.string(), EffectiveValue), state: z.record(z.string(), z.unknown()), inputs: z.record(z.string(), z.unknown()) }), 404: ErrorBody },
    },
  }, async (request, reply) => {
    const status = irrigation.status(request.params.id);
    const effective = irrigation.effectiveSettings(request.params.id);
    if (!status || !effective) return reply.code(404).send(notFound(request.params.id));
    // Band and windows are shown once, in `effective`, with their source.
    const { band: _b, windows: _w, ...zone } = status.zone;
    const { band: _ib, windows: _iw, ...inputs } = status.inputs;
    return { zone, effective, state: { ...status.state }, inputs };
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
    return irrigation.decisions(request.params.id, request.query).map(view);
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
    return irrigation.signals(request.params.id, request.query.limit);
  });

  const operate = (path: string, summary: string, body: z.ZodType, toEvent: (body: never, by: string) => Parameters<IrrigationEngine['dispatch']>[1]) => {
    app.post(path, {
      ...secured,
      schema: { summary, security: [{ bearer: [] }], params: Params, body, response: { 202: Accepted, 404: ErrorBody, 409: Accepted.extend({ error: z.string(), message: z.string() }) } },
    }, async (request, reply) => {
      if (!irrigation.status(request.params.id)) return reply.code(404).send(notFound(request.params.id));
      // Clustered: only the node that owns the zone's community decides for it (docs/cluster.md).
      if (!irrigation.isOwned(request.params.id)) {
        return reply.code(409).send({ error: 'not_owner', message: '本节点不负责该片区，请向负责它的节点发送 / zone\'s community is owned by another node: send the request there', decisions: [] });
      }
      const decisions = irrigation.dispatch(request.params.id, toEvent(request.body as never, actorOf(request)));
      const refusal = decisions.find((d) => d.action === 'skip' && REFUSALS.has(d.reason) && d.actor !== undefined);
      if (refusal) return reply.code(409).send({ error: 'conflict', message: `not done: ${refusal.reason}`, decisions: decisions.map(view) });
      return reply.code(202).send({ decisions: decisions.map(view) });
    });
  };

  operate('/zones/:id/water-now', 'Open the zone\'s valve now (outside windows and thresholds); stops at the high threshold or after durationS',
    z.object({ durationS: z.number().int().min(1).max(6 * 3600).optional() }).default({}),
    (body: { durationS?: number }, by) => ({ type: 'operator', operation: { op: 'water_now', by, durationS: body.durationS } }));
  operate('/zones/:id/skip-next', 'Skip the next watering that would otherwise start', z.object({}).default({}),
    (_body: unknown, by) => ({ type: 'operator', operation: { op: 'skip_next', by } }));
  operate('/zones/:id/pause', 'Pause automatic watering for N days (0 resumes); a running watering stops',
    z.object({ days: z.number().min(0).max(365) }),
    (body: { days: number }, by) => ({ type: 'operator', operation: { op: 'pause', by, days: body.days } }));
  operate('/zones/:id/forecast', 'Post a weather forecast for the zone: rain at or above the threshold, or frost, skips watering while it is valid',
    z.object({ rainMm: z.number().min(0).max(1000), minAirTempC: z.number().min(-60).max(60).optional(), validForH: z.number().positive().max(240).default(24) }),
    (body: { rainMm: number; minAirTempC?: number; validForH: number }, by) => ({ type: 'forecast', rainMm: body.rainMm, minAirTempC: body.minAirTempC, validUntil: irrigation.now() + body.validForH * 3_600_000, by }));

  app.put('/zones/:id/irrigation', {
    ...secured,
    schema: { summary: 'Override the zone\'s band, windows or tunables (debounceS, maxRunS, ackTimeoutS, ...) over its configuration; a band the zone\'s soil cannot hold is refused (400)', security: [{ bearer: [] }],
      params: Params, body: ZoneOverride, response: { 200: z.object({ ok: z.literal(true) }), 400: ErrorBody, 404: ErrorBody } },
  }, async (request, reply) => {
    const status = irrigation.status(request.params.id);
    if (!status) return reply.code(404).send(notFound(request.params.id));
    // The same judgement and words as the inventory import and the zone_infeasible alert.
    const band = request.body.band && bandProblem(request.body.band, status.zone.soil);
    if (band) return reply.code(400).send({ error: 'bad_request', message: `band.${band.field}: ${band.message}` });
    for (const w of request.body.windows ?? []) {
      try {
        validateWindow(w, status.settings.timezone);
      } catch (error) {
        return reply.code(400).send({ error: 'bad_request', message: `window "${w}" is not a cron expression: ${(error as Error).message}` });
      }
    }
    irrigation.setOverride(request.params.id, request.body, actorOf(request));
    return { ok: true as const };
  });
};
