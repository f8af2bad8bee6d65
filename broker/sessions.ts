import type { BrokerIdentity } from './identity.ts';

interface SessionClient { id: string; close(): void }

const accountOf = (identity: BrokerIdentity): string => (identity.role === 'device' ? identity.deviceId : identity.name);

/**
 * Who each connection is, which connections hold a session, and revocations. A revocation
 * (rotate, disable) closes the account's live sessions; one that lands after a client's
 * credentials were checked but before its session registered is caught by an epoch taken
 * when authentication starts and compared at registration.
 */
export function createSessions<C extends SessionClient>() {
  const identities = new WeakMap<C, BrokerIdentity>();
  const sessions = new Map<string, C>(); // registered clients by id (aedes keeps its own, untyped)
  const authStartedAt = new WeakMap<C, number>();
  const revokedAt = new Map<string, number>();
  const revoked = new WeakSet<C>();
  let epoch = 0;

  return {
    authenticating(client: C): void {
      authStartedAt.set(client, epoch);
    },
    authenticated(client: C, identity: BrokerIdentity): void {
      identities.set(client, identity);
    },
    identity: (client: C): BrokerIdentity | undefined => identities.get(client),
    /** The session registered under this client id, if any (the one a new connection takes over). */
    current: (clientId: string): C | undefined => sessions.get(clientId),
    /** A session started; false when its account was revoked while it connected (it is then closed). */
    registered(client: C): boolean {
      sessions.set(client.id, client);
      const identity = identities.get(client);
      if (identity && (revokedAt.get(accountOf(identity)) ?? -1) > (authStartedAt.get(client) ?? Infinity)) {
        revoked.add(client);
        client.close();
        return false;
      }
      return true;
    },
    /** Closed by a revocation: nothing it still sends (its will included) is accepted. */
    isRevoked: (client: C): boolean => revoked.has(client),
    ended(client: C): void {
      if (sessions.get(client.id) === client) sessions.delete(client.id);
    },
    /** Close every live session of one account (device id or service account id). */
    revoke(account: string, kind: 'device' | 'service'): number {
      revokedAt.set(account, ++epoch);
      let closed = 0;
      for (const client of [...sessions.values()]) {
        const identity = identities.get(client);
        if (identity && (identity.role === 'device') === (kind === 'device') && accountOf(identity) === account) {
          revoked.add(client);
          client.close();
          closed += 1;
        }
      }
      return closed;
    },
  };
}
