import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Db } from '../registry/db.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { loadOrCreateSecretFile } from '../lib/secret-file.ts';
import { createUserStore } from '../registry/users.ts';
import { ackLinkUrl, signAckLink } from '../lib/signed-link.ts';

/** How long a notification's acknowledge link works: a weekend off and back (3 days). */
export const ACK_LINK_TTL_S = 3 * 24 * 3600;

/**
 * The people's side, wired once for app.ts: users and their sessions, the key signed
 * acknowledge links use (generated once into the data dir, 0600, like the admin token, so
 * links survive a restart), and the public base URL — GS_PUBLIC_URL, else the bound HTTP
 * port, known only once the API listens (`bindPort`).
 */
export function startPeople(deps: { db: Db; clock: Clock; logger: Logger; dataDir: string; publicUrl: string | undefined; httpPort: number }) {
  const users = createUserStore(deps.db, { clock: deps.clock });
  const linkKey = loadOrCreateKey(join(deps.dataDir, 'link-key'), deps.logger);
  let base = deps.publicUrl ?? `http://127.0.0.1:${deps.httpPort}`;
  const publicUrl = (): string => base;
  return {
    users,
    linkKey,
    publicUrl,
    /** Called once the API listens: a derived base URL follows the port actually bound (port 0 in tests). */
    bindUrl(url: string): void {
      if (!deps.publicUrl) base = url;
    },
    /** A signed one-tap acknowledge link for an alert and a recipient (a team id, or `{team}:supervisor`). */
    ackLink(alertId: number, recipient: string): string {
      const fields = { alertId, recipient, expiresAtS: Math.floor(deps.clock.now() / 1000) + ACK_LINK_TTL_S };
      return ackLinkUrl(base, fields, signAckLink(linkKey, fields));
    },
  };
}

function loadOrCreateKey(path: string, logger: Logger): Buffer {
  return Buffer.from(loadOrCreateSecretFile(path, () => randomBytes(32).toString('hex'), { logger, what: 'the key acknowledge links are signed with' }), 'hex');
}
