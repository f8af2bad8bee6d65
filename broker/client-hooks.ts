import type { Aedes, AedesOptions, Client, Subscription } from 'aedes';
import { deviceTopic } from '../contracts/topics.ts';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../lib/metrics.ts';
import type { RefusalLog } from '../lib/refusal-log.ts';
import type { Peer } from './accept.ts';
import { canSubscribe } from './acl.ts';
import type { createConnectionGuard } from './connection-guard.ts';
import type { createDeviceStatus } from './device-status.ts';
import type { createSessions } from './sessions.ts';

type Sessions = ReturnType<typeof createSessions<Client>>;
type DeviceStatus = ReturnType<typeof createDeviceStatus>;

interface HookDeps {
  refusals: RefusalLog;
  refused: (reason: string) => void;
  peerOf: (conn: unknown) => Peer | undefined;
}

/** CONNECT rate per address; a will on the device's own status topic gives way to the broker's (device-status.ts). */
export function createPreConnect(deps: HookDeps & { guard: ReturnType<typeof createConnectionGuard> }): NonNullable<AedesOptions['preConnect']> {
  return (client, packet, done) => {
    const ip = deps.peerOf(client.conn)?.ip ?? 'unknown';
    if (!deps.guard.admitConnect(ip)) {
      deps.refused('connect_rate_limited');
      deps.refusals.note('connect_rate_limited', ip, 'connect rate limit exceeded', { clientId: packet.clientId });
      return done(new Error('connect rate limit exceeded'), false);
    }
    if (packet.will?.topic === deviceTopic(packet.clientId, 'status')) delete packet.will;
    done(null, true);
  };
}

/** The ACL on subscriptions: a refused filter gets SUBACK 0x80 and the connection stays. */
export function createAuthorizeSubscribe(deps: HookDeps & { sessions: Sessions }): NonNullable<AedesOptions['authorizeSubscribe']> {
  return (client, subscription: Subscription, done) => {
    const identity = deps.sessions.identity(client);
    if (identity && canSubscribe(identity, subscription.topic)) return done(null, subscription);
    deps.refused('subscribe_denied');
    deps.refusals.note('subscribe_denied', deps.peerOf(client.conn)?.ip ?? 'unknown', 'subscription refused', { clientId: client.id, topic: subscription.topic });
    done(null, null);
  };
}

/** Sessions starting and ending: the connected-clients gauge, revocations caught mid-connect, retained device status. */
export function watchClients(aedes: Aedes, deps: { sessions: Sessions; status: DeviceStatus; metrics: Metrics; logger: Logger }): void {
  const { sessions, status, metrics, logger } = deps;
  aedes.on('client', (client) => {
    metrics.connectedClients.set(aedes.connectedClients);
    if (!sessions.registered(client)) return logger.info({ clientId: client.id }, 'credentials revoked during connect: disconnected');
    const identity = sessions.identity(client);
    if (identity?.role === 'device') status.online(identity.deviceId);
  });
  aedes.on('clientDisconnect', (client) => {
    sessions.ended(client);
    metrics.connectedClients.set(aedes.connectedClients);
    const identity = sessions.identity(client);
    if (identity?.role === 'device') status.offline(client, identity.deviceId);
  });
  aedes.on('clientError', (client, error) => logger.debug({ clientId: client.id, err: error.message }, 'client error'));
}
