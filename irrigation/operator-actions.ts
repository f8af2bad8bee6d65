import { z } from 'zod';
import type { Decision } from '../rules/irrigation/state.ts';
import { ACTION_BODIES, ActionName, DecisionView, type ActionAnswer, type ZoneAnswer, type ZoneRequestName } from '../contracts/zone-action.ts';
import { bandProblem } from '../contracts/zone-feasibility.ts';
import { validateWindow } from '../rules/irrigation/windows.ts';
import type { IrrigationEngine } from './engine.ts';
import { ZoneOverride } from './store.ts';

/**
 * An operator's action on a zone (water now, skip, pause, forecast) and the HTTP answer it
 * gets, in one place: the API route runs it when this node owns the zone's community, and
 * the owner runs the same code for an action another node forwarded to it over the bus
 * (cluster/zone-forward.ts), so the operator gets the same status and body either way.
 */

export const viewDecision = (d: Decision & { id?: number }): z.infer<typeof DecisionView> => ({ ...d, time: new Date(d.at).toISOString(), inputs: { ...d.inputs } });
/** Decisions that refuse an operator's request rather than act on it. */
const REFUSALS = new Set(['already_running', 'no_valve', 'freeze', 'budget', 'paused', 'seasonal_off']);

type Event = Parameters<IrrigationEngine['dispatch']>[1];
const toEvent = (engine: Pick<IrrigationEngine, 'now'>, action: ActionName, body: Record<string, unknown>, by: string): Event => {
  switch (action) {
    case 'water-now': return { type: 'operator', operation: { op: 'water_now', by, durationS: body.durationS as number | undefined } };
    case 'skip-next': return { type: 'operator', operation: { op: 'skip_next', by } };
    case 'pause': return { type: 'operator', operation: { op: 'pause', by, days: body.days as number } };
    case 'forecast': return { type: 'forecast', rainMm: body.rainMm as number, minAirTempC: body.minAirTempC as number | undefined, validUntil: engine.now() + (body.validForH as number) * 3_600_000, by };
  }
};

export const notFoundBody = (id: string) => ({ error: 'not_found', message: `no zone ${id}` });
export const TAKING_OVER = { error: 'taking_over', message: '本节点正在接管该片区（读取分区状态），请稍后重试 / this node is taking the zone\'s community over (reading its state): try again in a moment' };
export const NOT_OWNER = { error: 'not_owner', message: '本节点不负责该片区，请向负责它的节点发送 / zone\'s community is owned by another node: send the request there', decisions: [] };

/**
 * Run an action on a zone this node owns. `body` is validated here (a forwarded one comes
 * from another node's route, but the bus is the only thing the owner trusts, so it is
 * checked again); `by` is the actor the receiving node authorized.
 */
export function performAction(engine: Pick<IrrigationEngine, 'status' | 'isOwned' | 'adopting' | 'dispatch' | 'now'>, zoneId: string, action: ActionName, body: unknown, by: string): ActionAnswer {
  const parsed = ACTION_BODIES[action].safeParse(body);
  if (!parsed.success) return { status: 400, body: { error: 'bad_request', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ').slice(0, 500) } };
  if (!engine.status(zoneId)) return { status: 404, body: notFoundBody(zoneId) };
  if (!engine.isOwned(zoneId)) return { status: 409, body: NOT_OWNER };
  // Its events are not evaluated until the state is read: an action now would be dropped, yet answered 202.
  if (engine.adopting(zoneId)) return { status: 503, body: TAKING_OVER };
  const decisions = engine.dispatch(zoneId, toEvent(engine, action, parsed.data as Record<string, unknown>, by));
  const refusal = decisions.find((d) => d.action === 'skip' && REFUSALS.has(d.reason) && d.actor !== undefined);
  if (refusal) return { status: 409, body: { error: 'conflict', message: `not done: ${refusal.reason}`, decisions: decisions.map(viewDecision) } };
  return { status: 202, body: { decisions: decisions.map(viewDecision) } };
}

/** A zone's irrigation view (`GET /zones/:id/irrigation`) from this node's memory; undefined for a zone it does not know. */
export function irrigationView(engine: Pick<IrrigationEngine, 'status' | 'effectiveSettings'>, zoneId: string) {
  const status = engine.status(zoneId);
  const effective = engine.effectiveSettings(zoneId);
  if (!status || !effective) return undefined;
  // Band and windows are shown once, in `effective`, with their source.
  const { band: _b, windows: _w, ...zone } = status.zone;
  const { band: _ib, windows: _iw, ...inputs } = status.inputs;
  return { zone, effective, state: { ...status.state }, inputs };
}

/** Why an override cannot apply to the zone (the same judgement and words as the inventory import and zone_infeasible); undefined when it can. */
export function overrideProblem(status: NonNullable<ReturnType<IrrigationEngine['status']>>, override: ZoneOverride): string | undefined {
  const band = override.band && bandProblem(override.band, status.zone.soil);
  if (band) return `band.${band.field}: ${band.message}`;
  for (const w of override.windows ?? []) {
    try {
      validateWindow(w, status.settings.timezone);
    } catch (error) {
      return `window "${w}" is not a cron expression: ${(error as Error).message}`;
    }
  }
  return undefined;
}

/** Set the zone's override on this node (the owner): checked again (the bus is trusted, not the payload), written, decided with at once. */
export async function setOverrideAnswer(engine: Pick<IrrigationEngine, 'status' | 'setOverride'>, zoneId: string, body: unknown, by: string): Promise<ZoneAnswer> {
  const status = engine.status(zoneId);
  if (!status) return { status: 404, body: notFoundBody(zoneId) };
  const parsed = ZoneOverride.safeParse(body);
  const problem = parsed.success ? overrideProblem(status, parsed.data) : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ').slice(0, 500);
  if (problem !== undefined || !parsed.success) return { status: 400, body: { error: 'bad_request', message: problem ?? 'invalid override' } };
  try {
    await engine.setOverride(zoneId, parsed.data, by);
  } catch (error) {
    // Settings the engine refuses are the caller's; a store failure is not (nor its message, an
    // internal address): it fails the request, logged by the bus, answered 503 by the receiver.
    if (!(error instanceof z.ZodError)) throw error;
    return { status: 400, body: { error: 'bad_request', message: error.message.slice(0, 500) } };
  }
  return { status: 200, body: { ok: true } };
}

/** What the owner answers another node for a zone (cluster/zone-forward.ts): an action, the zone's view, or its settings. */
export function performRequest(engine: Pick<IrrigationEngine, 'status' | 'isOwned' | 'adopting' | 'dispatch' | 'now' | 'effectiveSettings' | 'setOverride'>, zoneId: string, name: ZoneRequestName, body: unknown, by: string): ZoneAnswer | Promise<ZoneAnswer> {
  if (name === 'irrigation-view') {
    const view = irrigationView(engine, zoneId);
    return view ? { status: 200, body: view } : { status: 404, body: notFoundBody(zoneId) };
  }
  if (name === 'irrigation-settings') return setOverrideAnswer(engine, zoneId, body, by);
  return performAction(engine, zoneId, ActionName.parse(name), body, by);
}
