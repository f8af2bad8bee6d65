import { randomBytes } from 'node:crypto';
import type { Db } from './db.ts';
import type { Clock } from '../lib/clock.ts';
import { CodedError } from '../lib/errors.ts';
import type { Principal, Role } from '../contracts/access.ts';
import { UserCreate, type UserView } from '../contracts/user.ts';
import { hashSecret, sha256, verifySecret } from './secrets.ts';

interface UserRow { name: string; role: Role; districts: string | null; password_hash: string; created_at: string; password_changed_at: string; disabled_at: string | null }

/** A session lasts a working week without a new login; a password change ends all of them. */
export const SESSION_TTL_MS = 7 * 24 * 3_600_000;

/** A hash to compare against when the name is unknown, so the answer takes as long as a wrong password. */
const DUMMY_HASH = hashSecret(randomBytes(16).toString('hex'));

const toView = (r: UserRow): UserView => ({
  name: r.name, role: r.role, ...(r.districts ? { districts: JSON.parse(r.districts) as string[] } : {}), createdAt: r.created_at, disabled: r.disabled_at !== null,
});
/** The principal id of a person's session (a bearer token's is its own id): tells a person from a machine of the same name. */
export const userTokenId = (name: string): string => `user:${name}`;
export const principalOf = (u: UserView): Principal => ({ tokenId: userTokenId(u.name), name: u.name, role: u.role, ...(u.districts ? { districts: u.districts } : {}) });

export type UserStore = ReturnType<typeof createUserStore>;

/**
 * People who log in, and their sessions. Passwords are scrypt-hashed (registry/secrets.ts);
 * a session id is random and kept only as its SHA-256. Machines keep bearer tokens
 * (registry/tokens.ts).
 */
export function createUserStore(db: Db, deps: { clock: Clock }) {
  const now = () => deps.clock.now();
  const get = (name: string) => db.prepare('SELECT * FROM users WHERE name = ?').get(name) as UserRow | undefined;

  return {
    async create(input: UserCreate): Promise<UserView> {
      const body = UserCreate.parse(input);
      if (get(body.name)) throw new CodedError('conflict', `user ${body.name} exists`);
      const at = new Date(now()).toISOString();
      const row: UserRow = { name: body.name, role: body.role, districts: body.districts ? JSON.stringify(body.districts) : null, password_hash: await hashSecret(body.password), created_at: at, password_changed_at: at, disabled_at: null };
      db.prepare('INSERT INTO users (name, role, districts, password_hash, created_at, password_changed_at) VALUES (@name, @role, @districts, @password_hash, @created_at, @password_changed_at)').run(row);
      return toView(row);
    },
    list: (): UserView[] => (db.prepare('SELECT * FROM users ORDER BY name').all() as UserRow[]).map(toView),
    get: (name: string): UserView | undefined => { const r = get(name); return r ? toView(r) : undefined; },

    /** The user if the password is theirs and they are not disabled; the same time is spent either way. */
    async check(name: string, password: string): Promise<UserView | undefined> {
      const row = get(name);
      const ok = await verifySecret(password, row?.password_hash ?? await DUMMY_HASH);
      return row && ok && !row.disabled_at ? toView(row) : undefined;
    },

    /** Set a new password and end every session of the user (a stolen session dies with the old password). */
    async setPassword(name: string, password: string): Promise<void> {
      if (!get(name)) throw new CodedError('not_found', `no user ${name}`);
      const hash = await hashSecret(password);
      db.transaction(() => {
        db.prepare('UPDATE users SET password_hash = ?, password_changed_at = ? WHERE name = ?').run(hash, new Date(now()).toISOString(), name);
        db.prepare('DELETE FROM user_sessions WHERE user_name = ?').run(name);
      })();
    },

    setDisabled(name: string, disabled: boolean): UserView {
      if (!get(name)) throw new CodedError('not_found', `no user ${name}`);
      db.transaction(() => {
        db.prepare('UPDATE users SET disabled_at = ? WHERE name = ?').run(disabled ? new Date(now()).toISOString() : null, name);
        if (disabled) db.prepare('DELETE FROM user_sessions WHERE user_name = ?').run(name);
      })();
      return toView(get(name)!);
    },

    sessions: {
      /** A new session: the cookie value (returned once) and its CSRF token. */
      start(name: string): { id: string; csrf: string; expiresAt: number } {
        const id = randomBytes(32).toString('base64url');
        const csrf = randomBytes(24).toString('base64url');
        const at = now();
        db.prepare('DELETE FROM user_sessions WHERE expires_at <= ?').run(at);
        db.prepare('INSERT INTO user_sessions (id_hash, user_name, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(sha256(id), name, csrf, at, at + SESSION_TTL_MS);
        return { id, csrf, expiresAt: at + SESSION_TTL_MS };
      },
      /** The session's user (not disabled) and CSRF token; undefined when unknown or expired. */
      resolve(id: string): { user: UserView; csrf: string } | undefined {
        const row = db.prepare('SELECT s.csrf, s.expires_at, u.* FROM user_sessions s JOIN users u ON u.name = s.user_name WHERE s.id_hash = ?').get(sha256(id)) as (UserRow & { csrf: string; expires_at: number }) | undefined;
        if (!row || row.expires_at <= now() || row.disabled_at) return undefined;
        return { user: toView(row), csrf: row.csrf };
      },
      end(id: string): void {
        db.prepare('DELETE FROM user_sessions WHERE id_hash = ?').run(sha256(id));
      },
    },
  };
}
