import { err, ok, type Result } from '../../lib/result.ts';
import type { Alert } from '../../contracts/alert.ts';
import type { Message } from '../message.ts';
import type { NotifyReason } from '../policy.ts';

/** What one outbox row asks a channel to deliver. */
export interface Delivery {
  /** The outbox row id: stable across retries, so receivers can drop duplicates. */
  id: number;
  teamId: string;
  audience: 'team' | 'supervisor';
  message: Message;
  alerts: Array<{ reason: NotifyReason; ackUrl: string; alert: Alert }>;
  /** Phones to @-mention where the channel can (DingTalk): the team's technicians, for critical alerts. */
  mentionMobiles?: string[];
}

export interface SendContext {
  /** Wall-clock ms at the attempt: the robots' signatures must carry the send time. */
  now: number;
  timeoutMs: number;
}

export type SendResult = Result<void, string>;
export type Sender<C> = (channel: C, delivery: Delivery, ctx: SendContext) => Promise<SendResult>;

/**
 * POST a JSON body with a hard timeout covering connect, headers and body, and return
 * the status and text. Never throws: a network error or timeout is an `err`.
 */
export async function postJson(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<Result<{ status: number; text: string }, string>> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    const text = await res.text();
    return ok({ status: res.status, text });
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError') return err(`timeout after ${timeoutMs} ms`);
    return err(`${e.cause?.code ?? e.name}: ${e.message}`);
  }
}

/**
 * The robots answer HTTP 200 even when they refuse a message; the verdict is in the body
 * (`errcode` for WeCom/DingTalk, `code` — or `StatusCode` on old Feishu hooks — for Feishu).
 */
export function checkRobotAnswer(res: { status: number; text: string }, codeFields: readonly string[]): SendResult {
  if (res.status < 200 || res.status >= 300) return err(`HTTP ${res.status}: ${res.text.slice(0, 200)}`);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.text) as Record<string, unknown>;
  } catch {
    return err(`HTTP ${res.status} with a body that is not JSON: ${res.text.slice(0, 200)}`);
  }
  const field = codeFields.find((f) => typeof body[f] === 'number');
  if (field === undefined) return err(`answer without ${codeFields.join('/')}: ${res.text.slice(0, 200)}`);
  if (body[field] !== 0) return err(`${field} ${String(body[field])}: ${String(body.errmsg ?? body.msg ?? body.StatusMessage ?? '')}`.slice(0, 300));
  return ok(undefined);
}
