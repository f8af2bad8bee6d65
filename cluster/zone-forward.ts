import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { EntityId } from '../contracts/device.ts';
import { ActionName, ZoneRequestName, answerBodyOf, type ZoneAnswer } from '../contracts/zone-action.ts';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../lib/metrics.ts';
import { communityKey } from './community-ownership.ts';
import type { RelayEmitter } from './reading-relay.ts';

/**
 * Operator actions on a zone, forwarded to the node that owns its community (clustered).
 * Nodes sit behind one load balancer, so an operator's "water now" may reach a node that
 * does not run the zone. That node authorizes the request (role, districts) as for any
 * other, then publishes it on `$gs/zone-actions/<community>` over the broker's bus; the
 * owner runs it as if asked directly and answers on `$gs/zone-replies/<origin node>` with
 * the same correlation id, and the receiving node answers the operator with the owner's
 * status and body. `$gs/` is refused to every client by the ACL (broker/acl.ts) and matched
 * by no client wildcard, as for the reading relay.
 *
 * Applied once: the owner keeps each correlation id's answer for ten minutes and answers a
 * repeat with it, without running the action again (the receiving node repeats its request
 * once, with the same id, if the first got no answer in `resendMs`). With a shared store
 * (`applied`, PostgreSQL) the owner claims the id there before running it, so a repeat that
 * reaches a new owner after the community changed hands is answered from the record, and one
 * whose first run has not answered yet is left to the node running it. No answer within
 * `timeoutMs`: 503 `owner_unavailable`, the action perhaps applied, perhaps not.
 */
export const ZONE_ACTION_PREFIX = '$gs/zone-actions/';
export const ZONE_REPLY_PREFIX = '$gs/zone-replies/';

/** A request is an action on one zone with a small body; an answer lists the few decisions it produced. */
const MAX_REQUEST_BYTES = 16 * 1024;
const MAX_ANSWER_BYTES = 256 * 1024;
const ANSWERS_KEPT = 2_000;
const ANSWER_KEPT_MS = 10 * 60_000;

const Request = z.strictObject({
  id: z.string().uuid(),
  origin: z.string().min(1).max(200),
  community: z.string().min(1).max(64),
  zoneId: EntityId,
  action: ZoneRequestName,
  body: z.unknown(),
  by: z.string().min(1).max(200),
});
export type ZoneActionRequest = z.infer<typeof Request>;
/** The body is checked against what was asked (`answerBodyOf`), once the request is known. */
const Answer = z.strictObject({ id: z.string().uuid(), status: z.number().int().min(200).max(599), body: z.unknown() });

export const OWNER_UNAVAILABLE = (timeoutMs: number) => ({
  error: 'owner_unavailable',
  message: `负责该片区的节点 ${Math.round(timeoutMs / 1000)} 秒内未应答，操作可能未执行：请稍后查看该区域的决策记录再决定是否重试 / the node that owns the zone's community did not answer within ${Math.round(timeoutMs / 1000)} s; the action may not have been applied: check the zone's decisions before retrying`,
});

const parseJson = (payload: unknown, max: number): unknown => {
  if (!Buffer.isBuffer(payload) || payload.length > max) return undefined;
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined; // refused by the schema
  }
};

/**
 * The cluster's record of applied correlation ids (irrigation/applied-actions.ts, over
 * PostgreSQL): claimed before an action runs, its answer recorded after.
 */
export interface AppliedActions {
  /** True when this node is the first to claim `id` (it runs the action); false when another did. */
  claim(id: string, community: string): Promise<boolean>;
  answer(id: string, answer: ZoneAnswer): Promise<void>;
  /** Given back without running (ownership moved meanwhile). */
  unclaim(id: string): Promise<void>;
  /** What the record has of an id another node claimed (undefined: no row). */
  find(id: string): Promise<{ state: 'answered'; answer: ZoneAnswer } | { state: 'pending' } | undefined>;
}

export interface ZoneForwardDeps {
  nodeId: string;
  mq: RelayEmitter;
  /** Run a forwarded action if this node owns the zone; undefined when it does not (another node answers). */
  perform: (request: ZoneActionRequest) => ZoneAnswer | Promise<ZoneAnswer> | undefined;
  metrics: Metrics;
  logger: Logger;
  timeoutMs?: number;
  resendMs?: number;
  /**
   * The cluster's record of applied correlation ids (irrigation/applied-actions.ts, PostgreSQL);
   * given with `owns`. Absent: this node's memory alone.
   */
  applied?: AppliedActions;
  /** Whether this node runs the zone now: asked before an id is claimed in `applied`. */
  owns?: (zoneId: string) => boolean;
}

/**
 * Run a forwarded action once cluster-wide: claimed in the shared record first; an id another
 * node claimed is answered from its recorded answer, or left to that node while it has none.
 */
async function answerOnce(request: ZoneActionRequest, deps: {
  applied: AppliedActions; run: (request: ZoneActionRequest) => Promise<ZoneAnswer | undefined>; repeat: (answer: ZoneAnswer) => void;
  count: (outcome: string) => void; log: Logger;
}): Promise<void> {
  const { applied, log } = deps;
  let claimed: boolean;
  try {
    claimed = await applied.claim(request.id, request.community);
  } catch (error) {
    // The shared record does not answer (a PostgreSQL outage): run it on this node's memory, as without one.
    log.error({ err: error, id: request.id, zoneId: request.zoneId }, 'applied zone actions record unavailable: the action runs with this node\'s memory only');
    await deps.run(request);
    return;
  }
  if (!claimed) {
    const found = await applied.find(request.id);
    if (found?.state === 'answered') deps.repeat(found.answer);
    else {
      // Claimed by a node that has not answered: it answers, or the receiver says it may have been applied (503).
      deps.count('pending');
      log.info({ id: request.id, zoneId: request.zoneId }, 'forwarded zone action already claimed by another node, not answered yet: not run again');
    }
    return;
  }
  const result = await deps.run(request);
  if (result) await applied.answer(request.id, result);
  else await applied.unclaim(request.id); // ownership moved meanwhile: the owner claims it
}

/** The answers this node gave, by correlation id: ten minutes, at most 2,000. */
function createAnswerMemory() {
  const answered = new Map<string, { at: number; answer: ZoneAnswer }>();
  const remember = (id: string, answer: ZoneAnswer) => {
    const now = Date.now();
    for (const [key, kept] of answered) {
      if (answered.size < ANSWERS_KEPT && now - kept.at < ANSWER_KEPT_MS) break; // insertion order: the oldest first
      answered.delete(key);
    }
    answered.set(id, { at: now, answer });
  };
  return { answered, remember };
}

export function createZoneForward(deps: ZoneForwardDeps) {
  const { mq, nodeId } = deps;
  const timeoutMs = deps.timeoutMs ?? 5_000;
  const resendMs = deps.resendMs ?? Math.min(2_000, timeoutMs / 2);
  const log = deps.logger.child({ module: 'zone-forward' });
  const count = (outcome: string) => deps.metrics.clusterZoneForward.inc({ outcome });
  const waiting = new Map<string, { action: ZoneRequestName; resolve: (answer: ZoneAnswer) => void }>();
  const { answered, remember } = createAnswerMemory();
  const replyTopic = `${ZONE_REPLY_PREFIX}${nodeId}`;
  const emit = (topic: string, value: unknown) => mq.emit({ topic, payload: Buffer.from(JSON.stringify(value)) }, (error) => {
    if (!error) return;
    count('failed');
    log.error({ err: error, topic }, 'zone action message not sent');
  });

  const onRequest = (message: { topic: string; payload: unknown }, done: () => void): void => {
    try {
      const parsed = Request.safeParse(parseJson(message.payload, MAX_REQUEST_BYTES));
      if (!parsed.success || message.topic !== `${ZONE_ACTION_PREFIX}${parsed.data.community}`) {
        count('refused');
        log.warn({ topic: message.topic, issues: parsed.success ? 'community mismatch' : parsed.error.issues.slice(0, 3) }, 'forwarded zone action refused');
      } else {
        const request = parsed.data;
        answer(request).catch((error: unknown) => {
          count('failed');
          log.error({ err: error, id: request.id, zoneId: request.zoneId }, 'forwarded zone action failed');
        });
      }
    } catch (error) {
      count('failed');
      log.error({ err: error, topic: message.topic }, 'forwarded zone action failed');
    }
    done();
  };

  const reply = (request: ZoneActionRequest, result: ZoneAnswer) => emit(`${ZONE_REPLY_PREFIX}${request.origin}`, { id: request.id, ...result });
  const repeat = (request: ZoneActionRequest, result: ZoneAnswer) => { count('repeated'); reply(request, result); };

  /** Run the action if this node owns the zone; its answer (undefined: not this node's). */
  const run = async (request: ZoneActionRequest): Promise<ZoneAnswer | undefined> => {
    const result = await deps.perform(request);
    if (!result) return undefined; // not this node's zone
    count('performed');
    log.info({ zoneId: request.zoneId, action: request.action, by: request.by, origin: request.origin, status: result.status }, 'forwarded zone action performed');
    remember(request.id, result);
    reply(request, result);
    return result;
  };

  const answer = async (request: ZoneActionRequest): Promise<void> => {
    const kept = answered.get(request.id);
    if (kept) { repeat(request, kept.answer); return; }
    const { applied, owns } = deps;
    // The view and the settings are not actions to apply once: a repeat reads or sets again.
    if (!applied || !owns || !ActionName.safeParse(request.action).success) { await run(request); return; }
    if (!owns(request.zoneId)) return;
    await answerOnce(request, { applied, run, count, log, repeat: (result) => { remember(request.id, result); repeat(request, result); } });
  };

  const onReply = (message: { topic: string; payload: unknown }, done: () => void): void => {
    const parsed = Answer.safeParse(parseJson(message.payload, MAX_ANSWER_BYTES));
    const asked = parsed.success ? waiting.get(parsed.data.id) : undefined;
    const body = parsed.success && asked ? answerBodyOf(asked.action).safeParse(parsed.data.body) : undefined;
    if (!parsed.success || body?.success === false) {
      count('refused');
      log.warn({ topic: message.topic, issues: (parsed.success ? body!.error! : parsed.error).issues.slice(0, 3) }, 'zone action answer refused');
    } else if (asked && body?.success) {
      asked.resolve({ status: parsed.data.status, body: body.data });
    }
    done();
  };

  return {
    timeoutMs,
    /** Ask the owner of the zone's community to run the action; its answer, or 503 after `timeoutMs`. */
    forward(input: { communityId: string | undefined; zoneId: string; action: ZoneRequestName; body: unknown; by: string; id?: string }): Promise<ZoneAnswer> {
      const community = communityKey(input.communityId);
      const request: ZoneActionRequest = { id: input.id ?? randomUUID(), origin: nodeId, community, zoneId: input.zoneId, action: input.action, body: input.body, by: input.by };
      return new Promise((resolve) => {
        const finish = (result: ZoneAnswer, outcome: string) => {
          clearTimeout(resend);
          clearTimeout(timeout);
          waiting.delete(request.id);
          count(outcome);
          resolve(result);
        };
        waiting.set(request.id, { action: input.action, resolve: (result) => finish(result, 'answered') });
        const resend = setTimeout(() => { count('resent'); emit(`${ZONE_ACTION_PREFIX}${community}`, request); }, resendMs);
        const timeout = setTimeout(() => {
          log.warn({ zoneId: input.zoneId, community, action: input.action, id: request.id, timeoutMs }, 'the owner of the zone did not answer a forwarded action');
          finish({ status: 503, body: OWNER_UNAVAILABLE(timeoutMs) }, 'timeout');
        }, timeoutMs);
        count('sent');
        emit(`${ZONE_ACTION_PREFIX}${community}`, request);
      });
    },
    /** Listen for actions to run (every node; each runs its own zones') and for answers to this node. */
    async start(): Promise<void> {
      await new Promise<void>((resolve) => { mq.on(`${ZONE_ACTION_PREFIX}+`, onRequest, () => resolve()); });
      await new Promise<void>((resolve) => { mq.on(replyTopic, onReply, () => resolve()); });
    },
    /** Stop listening (bounded: the bus may be closed or Redis gone). */
    async stop(): Promise<void> {
      if ((mq as { closed?: boolean }).closed) return;
      const off = (topic: string, listener: typeof onRequest) => new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1_000);
        mq.removeListener(topic, listener, () => { clearTimeout(timer); resolve(); });
      });
      await Promise.all([off(`${ZONE_ACTION_PREFIX}+`, onRequest), off(replyTopic, onReply)]);
    },
  };
}

export type ZoneForward = ReturnType<typeof createZoneForward>;
