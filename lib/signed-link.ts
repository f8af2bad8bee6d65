import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The one-tap acknowledge link in a notification: a capability for one alert and one
 * recipient (a team, or its supervisor), valid until an expiry, signed with HMAC-SHA256
 * under a key only this server holds. Whoever holds the link may acknowledge that alert,
 * no login needed; another alert id, another recipient, a later expiry or a changed
 * signature fails the check. Depends on nothing but node:crypto, so the notifier (which
 * signs) and the API (which checks) share it without importing each other.
 */
export interface AckLinkFields { alertId: number; recipient: string; expiresAtS: number }

const message = (f: AckLinkFields): string => `gs-ack-v1\n${f.alertId}\n${f.recipient}\n${f.expiresAtS}`;

export function signAckLink(key: Buffer, fields: AckLinkFields): string {
  return createHmac('sha256', key).update(message(fields)).digest('base64url');
}

export type AckLinkCheck = 'ok' | 'expired' | 'invalid';

/** `invalid` for a signature that does not match these fields; `expired` only for a genuine link past its time. */
export function checkAckLink(key: Buffer, fields: AckLinkFields, signature: string, nowMs: number): AckLinkCheck {
  const expected = Buffer.from(signAckLink(key, fields));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  return fields.expiresAtS * 1000 <= nowMs ? 'expired' : 'ok';
}

/**
 * A resident's reference for a report: the alert id and a short signature, so a reference
 * cannot be guessed from another (a resident sees only the state of their own report).
 */
export function reportReference(key: Buffer, alertId: number): string {
  return `${alertId}-${createHmac('sha256', key).update(`gs-report-v1\n${alertId}`).digest('base64url').slice(0, 12)}`;
}

/** The alert id of a genuine reference; undefined for anything else. */
export function checkReportReference(key: Buffer, reference: string): number | undefined {
  const id = Number(reference.split('-')[0]);
  if (!Number.isSafeInteger(id) || id <= 0) return undefined;
  const expected = Buffer.from(reportReference(key, id));
  const given = Buffer.from(reference);
  return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
}

/** `{base}/app/ack/{alertId}?r=…&x=…&s=…`: the page that shows the alert and acknowledges it with one tap. */
export function ackLinkUrl(base: string, fields: AckLinkFields, signature: string): string {
  const q = new URLSearchParams({ r: fields.recipient, x: String(fields.expiresAtS), s: signature });
  return `${base.replace(/\/+$/, '')}/app/ack/${fields.alertId}?${q.toString()}`;
}
