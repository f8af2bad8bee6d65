import type { Db } from './db.ts';
import { CodedError } from '../lib/errors.ts';
import type { Clock } from '../lib/clock.ts';
import { ServiceAccountCreate, type ServiceAccountView, type ServiceKind } from '../contracts/access.ts';
import { generateSecret, type CredentialHasher } from './secrets.ts';
import { withoutCapture } from './replica/local.ts';

interface AccountRow { id: string; kind: ServiceKind; applications: string; secret_hash: string; disabled: number; created_at: string }

/** A service account as the broker sees it; a new object after every change (cache versioning relies on it). */
export type ServiceAccount = ServiceAccountView;

const toView = (r: AccountRow): ServiceAccount => ({
  id: r.id, kind: r.kind, applications: JSON.parse(r.applications) as string[], disabled: r.disabled === 1, createdAt: r.created_at,
});

export type ServiceAccounts = ReturnType<typeof createServiceAccounts>;

/**
 * MQTT service accounts (LoRaWAN network servers, MQTT admins). Their secrets are generated
 * here (nobody chooses one), so they are stored as keyed hashes like device secrets
 * (secrets.ts); a legacy scrypt hash is accepted and replaced at the next successful login.
 */
export function createServiceAccounts(db: Db, deps: { clock: Clock; isDeviceId: (id: string) => boolean; hasher: CredentialHasher }) {
  const { hasher } = deps;
  const byId = new Map<string, ServiceAccount>();
  const hashes = new Map<string, string>();
  const index = (r: AccountRow) => {
    byId.set(r.id, toView(r));
    hashes.set(r.id, r.secret_hash);
  };
  const load = (id: string) => {
    const row = db.prepare('SELECT * FROM service_accounts WHERE id = ?').get(id) as AccountRow | undefined;
    if (!row) throw new CodedError('not_found', `no service account ${id}`);
    index(row);
    return byId.get(id) as ServiceAccount;
  };
  for (const row of db.prepare('SELECT * FROM service_accounts').all() as AccountRow[]) index(row);

  return {
    get: (id: string): ServiceAccount | undefined => byId.get(id),
    /** Re-read one account after its row changed under the store (the registry's replication); the entry is replaced, so the broker's credential cache misses. */
    refresh(id: string): void {
      const row = db.prepare('SELECT * FROM service_accounts WHERE id = ?').get(id) as AccountRow | undefined;
      if (row) index(row);
      else {
        byId.delete(id);
        hashes.delete(id);
      }
    },
    /** The stored hash (the replication compares it to drop the live connections of a changed secret). */
    secretHashOf: (id: string): string | undefined => hashes.get(id),
    list: (): ServiceAccount[] => [...byId.values()].sort((a, b) => a.id.localeCompare(b.id)),

    async create(input: ServiceAccountCreate): Promise<{ account: ServiceAccount; secret: string }> {
      const body = ServiceAccountCreate.parse(input);
      // One MQTT namespace: an account named like a device could take over its session.
      if (byId.has(body.id) || deps.isDeviceId(body.id)) throw new CodedError('conflict', `${body.id} is already an MQTT user name`);
      const secret = generateSecret();
      const applications = body.kind === 'admin' ? [] : [...new Set(body.applications)];
      db.prepare('INSERT INTO service_accounts (id, kind, applications, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(body.id, body.kind, JSON.stringify(applications), hasher.hash(secret), new Date(deps.clock.now()).toISOString());
      return { account: load(body.id), secret };
    },

    async rotate(id: string): Promise<{ account: ServiceAccount; secret: string }> {
      if (!byId.has(id)) throw new CodedError('not_found', `no service account ${id}`);
      const secret = generateSecret();
      db.prepare('UPDATE service_accounts SET secret_hash = ? WHERE id = ?').run(hasher.hash(secret), id);
      return { account: load(id), secret };
    },

    setDisabled(id: string, disabled: boolean): ServiceAccount {
      if (!byId.has(id)) throw new CodedError('not_found', `no service account ${id}`);
      db.prepare('UPDATE service_accounts SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, id);
      return load(id);
    },

    remove(id: string): void {
      if (!byId.has(id)) throw new CodedError('not_found', `no service account ${id}`);
      db.prepare('DELETE FROM service_accounts WHERE id = ?').run(id);
      byId.delete(id);
      hashes.delete(id);
    },

    /** Whether the account's secret is checked by the keyed hash rather than a legacy scrypt hash. */
    hasKeyedHash: (id: string): boolean => hasher.isKeyed(hashes.get(id) ?? ''),

    /** The account when the secret is right and it is enabled; undefined otherwise. A matching legacy hash is upgraded (see devices.ts). */
    async authenticate(id: string, secret: string): Promise<ServiceAccount | undefined> {
      const account = byId.get(id);
      const hash = hashes.get(id);
      if (!account || !hash || account.disabled) return undefined;
      const { ok, upgrade } = await hasher.verify(secret, hash);
      if (!ok) return undefined;
      if (upgrade && hashes.get(id) === hash && withoutCapture(db, () => db.prepare('UPDATE service_accounts SET secret_hash = ? WHERE id = ? AND secret_hash = ?').run(upgrade, id, hash).changes) === 1) hashes.set(id, upgrade);
      return account;
    },
  };
}
