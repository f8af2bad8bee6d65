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
 * Crockford's base32: digits and capitals without I, L, O and U, so a reference read aloud
 * or copied from a phone by hand cannot be mistaken (0/O, 1/I/L).
 */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function base32(bytes: Buffer, chars: number): string {
  let bits = 0, value = 0, out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length === chars) break;
  }
  return out;
}

/**
 * A resident's reference for a report: the alert id and 8 signed characters in two groups,
 * `123-7KQ2-M9XA` — short enough to write on paper, and 40 bits of HMAC so one cannot be
 * guessed from another (a resident sees only the state of their own report).
 */
export function reportReference(key: Buffer, alertId: number): string {
  const code = base32(createHmac('sha256', key).update(`gs-report-v2\n${alertId}`).digest(), 8);
  return `${alertId}-${code.slice(0, 4)}-${code.slice(4)}`;
}

/** The first references (`123-` and 12 base64url characters), still answered for residents who kept one. */
function legacyReportReference(key: Buffer, alertId: number): string {
  return `${alertId}-${createHmac('sha256', key).update(`gs-report-v1\n${alertId}`).digest('base64url').slice(0, 12)}`;
}

/** A reference as typed: spaces dropped, capitals, and the letters people mistake for digits read as those digits. */
function normalizeReference(reference: string): string {
  const trimmed = reference.trim().replace(/\s+/g, '');
  if (!/^\d+-[0-9a-z]{4}-?[0-9a-z]{4}$/i.test(trimmed)) return trimmed;
  const [id, ...rest] = trimmed.split('-');
  const code = rest.join('').toUpperCase().replace(/O/g, '0').replace(/[IL]/g, '1');
  return `${id}-${code.slice(0, 4)}-${code.slice(4)}`;
}

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The alert id of a genuine reference (as typed: case, spaces and 0/O, 1/I/L forgiven); undefined for anything else. */
export function checkReportReference(key: Buffer, reference: string): number | undefined {
  const id = Number(reference.trim().split('-')[0]);
  if (!Number.isSafeInteger(id) || id <= 0) return undefined;
  if (sameText(normalizeReference(reference), reportReference(key, id))) return id;
  return sameText(reference, legacyReportReference(key, id)) ? id : undefined;
}

/** `{base}/app/ack/{alertId}?r=…&x=…&s=…`: the page that shows the alert and acknowledges it with one tap. */
export function ackLinkUrl(base: string, fields: AckLinkFields, signature: string): string {
  const q = new URLSearchParams({ r: fields.recipient, x: String(fields.expiresAtS), s: signature });
  return `${base.replace(/\/+$/, '')}/app/ack/${fields.alertId}?${q.toString()}`;
}
