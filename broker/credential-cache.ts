import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Credentials verified recently, so a reconnect storm of thousands of devices costs one
 * HMAC each instead of one scrypt each. An entry holds a keyed digest of the secret (the
 * key is random per process: a memory dump reveals no secret) and the registry object it
 * was checked against: the registry replaces that object on every change (rotate,
 * disable, move), so a changed account misses the cache without any explicit call.
 * Only successes are cached; a wrong secret always pays the full scrypt.
 */
export function createCredentialCache(options: { key: Buffer; maxEntries: number }) {
  const entries = new Map<string, { version: object; digest: Buffer }>();
  const digest = (secret: string): Buffer => createHmac('sha256', options.key).update(secret).digest();

  return {
    check(id: string, version: object, secret: string): boolean {
      const entry = entries.get(id);
      if (!entry || entry.version !== version) return false;
      return timingSafeEqual(entry.digest, digest(secret));
    },
    remember(id: string, version: object, secret: string): void {
      entries.delete(id); // re-insert: Map order is recency, the oldest goes first
      entries.set(id, { version, digest: digest(secret) });
      if (entries.size > options.maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
    },
    size: (): number => entries.size,
  };
}
export type CredentialCache = ReturnType<typeof createCredentialCache>;
