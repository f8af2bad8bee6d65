import { randomBytes } from 'node:crypto';
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../lib/metrics.ts';
import type { RefusalLog } from '../lib/refusal-log.ts';
import { createCredentialHasher, generateSecret } from '../registry/secrets.ts';
import type { Peer } from './accept.ts';
import { createAuthenticator, SERVER_UNAVAILABLE, type AuthenticatorDeps } from './authenticate.ts';
import { createCredentialCache } from './credential-cache.ts';
import type { BrokerIdentity } from './identity.ts';

export interface CredentialCheckDeps {
  devices: AuthenticatorDeps['devices'];
  services: AuthenticatorDeps['services'];
  slowChecks: NonNullable<AuthenticatorDeps['slowChecks']>;
  metrics: Metrics;
  logger: Logger;
  refusals: RefusalLog;
  refused: (reason: string) => void;
  now: () => number;
  peerOf: (conn: unknown) => Peer | undefined;
  /** Before the check: the revocation epoch is taken here (sessions.ts). */
  starting: (client: Client) => void;
  /** After a successful check, before aedes registers the session. */
  accepted: (client: Client, identity: BrokerIdentity) => void;
}

/**
 * aedes' `authenticate` hook: the credential check (authenticate.ts) with the connection's
 * address and its "socket closed" signal, so the queue can budget per address and drop
 * CONNECTs nobody waits for any more. Refusals reach the log aggregated (refusal-log.ts).
 */
export async function createCredentialCheck(deps: CredentialCheckDeps): Promise<NonNullable<AedesOptions['authenticate']>> {
  const { metrics, logger } = deps;
  // The dummy costs what a keyed check does (one HMAC-SHA256 under a 32-byte key), whatever
  // the key: an unknown name is refused as slowly as a wrong secret.
  const dummy = createCredentialHasher(randomBytes(32));
  const dummyHash = dummy.hash(generateSecret());
  const authenticate = createAuthenticator({
    devices: deps.devices,
    services: deps.services,
    cache: createCredentialCache({ key: randomBytes(32), maxEntries: 200_000 }),
    dummyVerify: (secret) => dummy.verifyKeyed(secret, dummyHash),
    countCheck: (via) => metrics.credentialChecks.inc({ via }),
    slowChecks: deps.slowChecks,
    observeSlowChecks: (running, waiting) => {
      metrics.credentialChecksRunning.set(running);
      metrics.credentialChecksWaiting.set(waiting);
    },
    now: deps.now,
  });

  return (client, username, password, done) => {
    deps.starting(client);
    const peer = deps.peerOf(client.conn);
    const address = peer?.ip ?? 'unknown';
    authenticate(client.id, username, password?.toString('utf8'), { address, signal: peer?.closed }).then(
      (outcome) => {
        if (!outcome.ok) {
          deps.refused(outcome.reason);
          if (outcome.reason !== 'abandoned') deps.refusals.note(`connect_${outcome.reason}`, address, 'connection refused', { clientId: client.id, username });
          return done(Object.assign(new Error(outcome.reason), { returnCode: outcome.returnCode }) as AuthenticateError, false);
        }
        peer?.releaseUnauthenticated();
        deps.accepted(client, outcome.identity);
        done(null, true);
      },
      (error: unknown) => {
        logger.error({ err: error, clientId: client.id }, 'authentication failed unexpectedly');
        deps.refused('error');
        done(Object.assign(new Error('authentication unavailable'), { returnCode: SERVER_UNAVAILABLE }) as AuthenticateError, false);
      },
    );
  };
}
