import { randomBytes } from 'node:crypto';
import type { Db } from './db.ts';
import { CodedError } from '../lib/errors.ts';
import type { Clock } from '../lib/clock.ts';
import { TokenCreate, type Principal, type Role, type TokenView } from '../contracts/access.ts';
import { sha256 } from './secrets.ts';

interface TokenRow { id: string; name: string; role: Role; districts: string | null; token_hash: string; created_at: string; revoked_at: string | null }

/** The prefix makes leaked tokens recognisable to secret scanners and in logs. */
export const TOKEN_PREFIX = 'gst_';

const toView = (r: TokenRow): TokenView => ({
  id: r.id,
  name: r.name,
  role: r.role,
  ...(r.districts ? { districts: JSON.parse(r.districts) as string[] } : {}),
  createdAt: r.created_at,
  ...(r.revoked_at ? { revokedAt: r.revoked_at } : {}),
});

export type TokenStore = ReturnType<typeof createTokenStore>;

/**
 * API bearer tokens. Each request resolves its token through an in-memory index by
 * SHA-256 (no SQLite read on the hot path); create and revoke keep the index in step.
 */
export function createTokenStore(db: Db, deps: { clock: Clock; randomBytes?: (n: number) => Buffer }) {
  const random = deps.randomBytes ?? randomBytes;
  const active = new Map<string, Principal>();
  const hashById = new Map<string, string>();
  const index = (r: TokenRow) => {
    if (r.revoked_at) return;
    const view = toView(r);
    active.set(r.token_hash, { tokenId: view.id, name: view.name, role: view.role, ...(view.districts ? { districts: view.districts } : {}) });
    hashById.set(r.id, r.token_hash);
  };
  const forget = (id: string) => {
    const hash = hashById.get(id);
    if (hash !== undefined) active.delete(hash);
    hashById.delete(id);
  };
  for (const row of db.prepare('SELECT * FROM api_tokens WHERE revoked_at IS NULL').all() as TokenRow[]) index(row);

  return {
    /** The principal of a presented token; undefined when unknown or revoked. */
    resolve: (token: string): Principal | undefined => active.get(sha256(token)),

    /** Create a token; its secret is returned once and only its hash is kept. */
    create(input: TokenCreate): { token: TokenView; secret: string } {
      const body = TokenCreate.parse(input);
      const id = random(6).toString('hex');
      const secret = `${TOKEN_PREFIX}${random(32).toString('base64url')}`;
      const row: TokenRow = {
        id, name: body.name, role: body.role, districts: body.districts ? JSON.stringify(body.districts) : null,
        token_hash: sha256(secret), created_at: new Date(deps.clock.now()).toISOString(), revoked_at: null,
      };
      db.prepare('INSERT INTO api_tokens (id, name, role, districts, token_hash, created_at) VALUES (@id, @name, @role, @districts, @token_hash, @created_at)').run(row);
      index(row);
      return { token: toView(row), secret };
    },

    list: (): TokenView[] => (db.prepare('SELECT * FROM api_tokens ORDER BY created_at, id').all() as TokenRow[]).map(toView),

    /** Revoke at once: the next request with this token is refused. Revoking twice is a no-op. */
    revoke(id: string): TokenView {
      const row = db.prepare('SELECT * FROM api_tokens WHERE id = ?').get(id) as TokenRow | undefined;
      if (!row) throw new CodedError('not_found', `no token ${id}`);
      if (!row.revoked_at) {
        row.revoked_at = new Date(deps.clock.now()).toISOString();
        db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ?').run(row.revoked_at, id);
        forget(id);
      }
      return toView(row);
    },

    /** Re-read one token after its row changed under the store (the registry's replication from another node). */
    refresh(id: string): void {
      forget(id);
      const row = db.prepare('SELECT * FROM api_tokens WHERE id = ?').get(id) as TokenRow | undefined;
      if (row) index(row);
    },
  };
}
