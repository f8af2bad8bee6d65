import { z } from 'zod';

/**
 * An operator's zone action on the wire: the body each action takes and the answer it gets
 * (HTTP status and body). The API route and the owner of a zone's community answer alike
 * (irrigation/operator-actions.ts runs the action; cluster/zone-forward.ts carries it
 * between nodes), so both read these schemas from here.
 */

/** What a decision did; rules/irrigation/state.ts re-exports it for the deciders. */
export const DECISION_ACTIONS = ['start', 'stop', 'skip', 'soak', 'resume', 'alert', 'clear', 'operator'] as const;
export type DecisionAction = (typeof DECISION_ACTIONS)[number];

export const DecisionView = z.object({
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
export const Accepted = z.object({ decisions: z.array(DecisionView) });
export const ErrorBody = z.object({ error: z.string(), message: z.string() });
/** 202 (done), 409 (refused by the rules, or not_owner), 404, 503 (the owner did not answer): what an action answers. */
export const ActionAnswerBody = z.union([Accepted.extend({ error: z.string().optional(), message: z.string().optional() }), ErrorBody]);
export type ActionAnswer = { status: number; body: z.infer<typeof ActionAnswerBody> };

/** Each action's body, as the route takes it and a forwarded request carries it. */
export const ACTION_BODIES = {
  'water-now': z.object({ durationS: z.number().int().min(1).max(6 * 3600).optional() }).default({}),
  'skip-next': z.object({}).default({}),
  pause: z.object({ days: z.number().min(0).max(365) }),
  forecast: z.object({ rainMm: z.number().min(0).max(1000), minAirTempC: z.number().min(-60).max(60).optional(), validForH: z.number().positive().max(240).default(24) }),
} as const;
export type ActionName = keyof typeof ACTION_BODIES;
export const ActionName = z.enum(Object.keys(ACTION_BODIES) as [ActionName, ...ActionName[]]);

/**
 * What another node asks of a zone's owner (cluster/zone-forward.ts): an action, or the
 * zone's irrigation view (`GET /zones/:id/irrigation`: the owner's memory is the current
 * state) or its settings override (`PUT /zones/:id/irrigation`: decided with at once).
 */
export const ZoneRequestName = z.union([ActionName, z.enum(['irrigation-view', 'irrigation-settings'])]);
export type ZoneRequestName = z.infer<typeof ZoneRequestName>;
/** The zone's irrigation view as `GET /zones/:id/irrigation` answers it. */
const ZoneViewBody = z.object({ zone: z.record(z.string(), z.unknown()), effective: z.record(z.string(), z.unknown()), state: z.record(z.string(), z.unknown()), inputs: z.record(z.string(), z.unknown()) });
const SettingsSetBody = z.object({ ok: z.literal(true) });
/** A forwarded request's answer body: an action's, the zone's view, or the settings' `{ok}`; bounded in bytes by the bus. */
export const ZoneAnswerBody = z.union([ActionAnswerBody, ZoneViewBody, SettingsSetBody]);
export type ZoneAnswer = { status: number; body: z.infer<typeof ZoneAnswerBody> };
/** The answer body a request of this name may get (the asker checks the owner's answer against what it asked). */
export const answerBodyOf = (name: ZoneRequestName): z.ZodType<ZoneAnswer['body']> =>
  (name === 'irrigation-view' ? z.union([ZoneViewBody, ErrorBody]) : name === 'irrigation-settings' ? z.union([SettingsSetBody, ErrorBody]) : ActionAnswerBody);
