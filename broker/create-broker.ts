import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { DeviceInfo } from '../contracts/device.ts';
import { deviceTopic } from '../contracts/topics.ts';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../lib/metrics.ts';
import type { IngestMessage } from '../ingest/pipeline.ts';
import type { ServiceAccount } from '../registry/service-accounts.ts';
import { generateSecret, hashSecret, verifySecret } from '../registry/secrets.ts';
import { canPublish, canSubscribe } from './acl.ts';
import type { BrokerIdentity } from './identity.ts';
import { createAuthenticator, SERVER_UNAVAILABLE } from './authenticate.ts';
import { createCredentialCache } from './credential-cache.ts';
import { limitPacketSize } from './packet-limit.ts';
import { createPublishLimiter, type PublishLimits } from './publish-limiter.ts';
import { createConnectionGuard } from './connection-guard.ts';
import { createDeviceStatus } from './device-status.ts';
import { startListeners, type ListenerOptions } from './listeners.ts';
import type { BucketLimits } from '../lib/token-bucket.ts';

export interface BrokerLimits {
  maxPacketBytes: number;
  publish: PublishLimits;
  maxConnections: number;
  connectsPerIp: BucketLimits;
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxPacketBytes: 512 * 1024,
  publish: { device: { ratePerS: 5, burst: 50 }, service: { ratePerS: 500, burst: 5_000 }, disconnectAfter: 100, windowMs: 60_000 },
  maxConnections: 50_000,
  connectsPerIp: { ratePerS: 100, burst: 1_000 },
};

export interface BrokerDeps {
  host: string;
  port: number;
  logger: Logger;
  metrics: Metrics;
  /** Verify a device's credentials; undefined when unknown, disabled or wrong. */
  authenticateDevice: (id: string, secret: string) => Promise<DeviceInfo | undefined>;
  getDevice: (id: string) => DeviceInfo | undefined;
  /** Which topics carry readings for the ingest (the rest are only routed). */
  isReadingTopic: (topic: string) => boolean;
  /** Resolves once the reading is durable; the PUBACK waits for it. */
  ingest: (msg: IngestMessage) => Promise<void>;
  /** MQTT accounts that are not devices (network servers, admins); none when omitted. */
  services?: { get(id: string): ServiceAccount | undefined; authenticate(id: string, secret: string): Promise<ServiceAccount | undefined> };
  limits?: BrokerLimits;
  listeners?: Omit<ListenerOptions, 'host' | 'port' | 'maxMessageBytes'>;
  now?: () => number;
}

export type MqttBroker = Awaited<ReturnType<typeof createMqttBroker>>;

/** Readings dropped by the rate limit are re-addressed here: '#' never matches a '$' topic and no ACL grants it. */
const DROPPED_TOPIC = '$GS/dropped';
const noServices = { get: () => undefined, authenticate: async () => undefined };
const toBuffer = (payload: string | Buffer): Buffer => (typeof payload === 'string' ? Buffer.from(payload) : payload);

/**
 * The embedded Aedes broker: policy lives in small modules beside this file, each hook
 * wrapped once here. Readings are handed to the ingest inside `authorizePublish`, the one
 * hook that runs before aedes writes the PUBACK, so a QoS 1 acknowledgement means "durable".
 */
export async function createMqttBroker(deps: BrokerDeps) {
  const { logger, metrics } = deps;
  const now = deps.now ?? Date.now;
  const limits = deps.limits ?? DEFAULT_BROKER_LIMITS;
  const identities = new WeakMap<Client, BrokerIdentity>();
  const sessions = new Map<string, Client>(); // registered clients by id (aedes keeps its own, untyped)
  // Revocations that land after a client's credentials were checked but before its session
  // registered: an epoch taken when authentication starts, compared at registration.
  let epoch = 0;
  const revokedAt = new Map<string, number>();
  const authStartedAt = new WeakMap<Client, number>();
  const peers = new WeakMap<Duplex, string>();
  const refused = (reason: string) => metrics.authFailures.inc({ reason });

  const dummyHash = await hashSecret(generateSecret());
  const authenticate = createAuthenticator({
    devices: { get: deps.getDevice, authenticate: deps.authenticateDevice },
    services: deps.services ?? noServices,
    cache: createCredentialCache({ key: randomBytes(32), maxEntries: 200_000 }),
    dummyVerify: (secret) => verifySecret(secret, dummyHash),
    countCheck: (via) => metrics.credentialChecks.inc({ via }),
  });
  const limiter = createPublishLimiter(limits.publish, now);
  const guard = createConnectionGuard({ maxConnections: limits.maxConnections, perIp: limits.connectsPerIp, now });
  const status = createDeviceStatus({
    now,
    publish: (topic, body) => aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(body)), qos: 1, retain: true, dup: false }, (error) => {
      if (error) logger.error({ err: error, topic }, 'status publish failed');
    }),
  });

  const aedes: Aedes = await Aedes.createBroker({
    connectTimeout: 10_000,
    preConnect(client, packet, done) {
      const ip = peers.get(client.conn as Duplex) ?? 'unknown';
      if (!guard.admitConnect(ip)) {
        refused('connect_rate_limited');
        logger.warn({ ip, clientId: packet.clientId }, 'connect rate limit exceeded');
        return done(new Error('connect rate limit exceeded'), false);
      }
      // The broker owns each device's status topic (device-status.ts): a will there is replaced by the broker's own.
      if (packet.will?.topic === deviceTopic(packet.clientId, 'status')) delete packet.will;
      done(null, true);
    },

    authenticate(client, username, password, done) {
      authStartedAt.set(client, epoch);
      authenticate(client.id, username, password?.toString('utf8')).then(
        (outcome) => {
          if (!outcome.ok) {
            refused(outcome.reason);
            logger.info({ clientId: client.id, username, reason: outcome.reason }, 'connection refused');
            return done(Object.assign(new Error(outcome.reason), { returnCode: outcome.returnCode }) as AuthenticateError, false);
          }
          identities.set(client, outcome.identity);
          if (outcome.identity.role === 'device') status.takeover(sessions.get(client.id));
          done(null, true);
        },
        (error: unknown) => {
          logger.error({ err: error, clientId: client.id }, 'authentication failed unexpectedly');
          refused('error');
          done(Object.assign(new Error('authentication unavailable'), { returnCode: SERVER_UNAVAILABLE }) as AuthenticateError, false);
        },
      );
    },

    authorizePublish(client, packet, done) {
      if (!client) return done(null); // the broker's own publishes (status, commands)
      const identity = identities.get(client);
      if (status.isSuperseded(client)) return done(new Error('session taken over')); // its will must not overwrite the new session's status
      if (!identity || !canPublish(identity, packet.topic)) {
        refused('publish_denied');
        metrics.readingsRejected.inc({ reason: 'topic_not_allowed' });
        logger.warn({ clientId: client.id, topic: packet.topic }, 'publish refused');
        return done(new Error('publish not authorized')); // MQTT 3.1.1: the connection is closed
      }
      const verdict = limiter.check(client, identity.role === 'device' ? 'device' : 'service');
      if (verdict !== 'ok') {
        refused('rate_limited');
        if (deps.isReadingTopic(packet.topic)) metrics.readingsRejected.inc({ reason: 'rate_limited' });
        // QoS 1 is never acknowledged for a message not kept: closing leaves it with the device to resend later.
        if (verdict === 'disconnect' || packet.qos > 0) {
          refused('rate_limit_disconnect');
          logger.warn({ clientId: client.id, topic: packet.topic, verdict }, 'publish rate limit exceeded: disconnecting');
          return done(new Error('publish rate limit exceeded'));
        }
        packet.topic = DROPPED_TOPIC;
        packet.retain = false;
        return done(null);
      }
      if (!deps.isReadingTopic(packet.topic)) return done(null);
      packet.retain = false; // readings are a stream, never retained state
      const device = identity.role === 'device' ? deps.getDevice(identity.deviceId) : undefined;
      const pending = deps.ingest({ topic: packet.topic, payload: toBuffer(packet.payload), qos: packet.qos, device });
      if (packet.qos === 0) {
        pending.catch(() => undefined); // logged by the ingest
        return done(null);
      }
      pending.then(() => done(null), (error: unknown) => done(error as Error));
    },

    authorizeSubscribe(client, subscription: Subscription, done) {
      const identity = identities.get(client);
      if (identity && canSubscribe(identity, subscription.topic)) return done(null, subscription);
      refused('subscribe_denied');
      logger.warn({ clientId: client.id, topic: subscription.topic }, 'subscription refused');
      done(null, null); // SUBACK 0x80 for this filter; the connection stays
    },
  });

  aedes.on('client', (client) => {
    sessions.set(client.id, client);
    metrics.connectedClients.set(aedes.connectedClients);
    const identity = identities.get(client);
    const account = identity?.role === 'device' ? identity.deviceId : identity?.name;
    if (account !== undefined && (revokedAt.get(account) ?? -1) > (authStartedAt.get(client) ?? Infinity)) {
      logger.info({ clientId: client.id }, 'credentials revoked during connect: disconnecting');
      client.close();
      return;
    }
    if (identity?.role === 'device') status.online(identity.deviceId);
  });
  aedes.on('clientDisconnect', (client) => {
    if (sessions.get(client.id) === client) sessions.delete(client.id);
    metrics.connectedClients.set(aedes.connectedClients);
    const identity = identities.get(client);
    if (identity?.role === 'device') status.offline(client, identity.deviceId);
  });
  aedes.on('clientError', (client, error) => logger.debug({ clientId: client.id, err: error.message }, 'client error'));

  const listeners = await startListeners({ host: deps.host, port: deps.port, maxMessageBytes: limits.maxPacketBytes + 1024, ...deps.listeners }, (stream, ip) => {
    if (!guard.acquire()) {
      refused('too_many_connections');
      stream.destroy();
      return;
    }
    metrics.mqttConnections.set(guard.open());
    stream.once('close', () => {
      guard.release();
      metrics.mqttConnections.set(guard.open());
    });
    const conn = limitPacketSize(stream, limits.maxPacketBytes, (verdict) => {
      refused(verdict === 'too_large' ? 'packet_too_large' : 'malformed_packet');
      logger.warn({ ip, verdict, maxBytes: limits.maxPacketBytes }, 'connection closed: packet refused');
    });
    peers.set(conn, ip);
    aedes.handle(conn);
  }, logger);

  /** Close every live connection of the identities matching `match` (lifecycle: rotate, disable). */
  const disconnectWhere = (id: string, match: (identity: BrokerIdentity) => boolean): number => {
    revokedAt.set(id, ++epoch);
    let closed = 0;
    for (const client of [...sessions.values()]) {
      const identity = identities.get(client);
      if (identity && match(identity)) {
        client.close();
        closed += 1;
      }
    }
    return closed;
  };

  return {
    aedes,
    port: listeners.ports.port,
    ports: listeners.ports,
    /** Publish from the system itself (commands, retained status). */
    publish(packet: Pick<PublishPacket, 'topic' | 'payload' | 'qos' | 'retain'>): Promise<void> {
      return new Promise((resolve, reject) => aedes.publish({ cmd: 'publish', dup: false, ...packet }, (error) => (error ? reject(error) : resolve())));
    },
    /** Receive messages on a topic filter inside the process (acks, status), as the broker's own subscriber. */
    subscribe(filter: string, handler: (topic: string, payload: Buffer) => void): Promise<void> {
      return new Promise((resolve) =>
        aedes.subscribe(filter, (packet, done) => {
          try {
            handler(packet.topic, toBuffer(packet.payload));
          } catch (error) {
            logger.error({ err: error, topic: packet.topic }, 'internal subscriber failed');
          }
          done();
        }, resolve),
      );
    },
    disconnectDevice: (deviceId: string): number => disconnectWhere(deviceId, (i) => i.role === 'device' && i.deviceId === deviceId),
    disconnectService: (accountId: string): number => disconnectWhere(accountId, (i) => i.role !== 'device' && i.name === accountId),
    isListening: (): boolean => listeners.isListening(),
    async close(): Promise<void> {
      const closed = listeners.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve())); // disconnects every client
      await closed;
    },
  };
}
