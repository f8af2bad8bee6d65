import './quiet-packet-debug.ts'; // before aedes loads mqtt-packet
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { DeviceInfo } from '../contracts/device.ts';
import { deviceTopic } from '../contracts/topics.ts';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../lib/metrics.ts';
import type { IngestMessage, Settle } from '../ingest/pipeline.ts';
import type { ServiceAccount } from '../registry/service-accounts.ts';
import { generateSecret, hashSecret, verifySecret } from '../registry/secrets.ts';
import { canSubscribe } from './acl.ts';
import { createAuthorizePublish } from './authorize-publish.ts';
import { createSessions } from './sessions.ts';
import { createAuthenticator, SERVER_UNAVAILABLE } from './authenticate.ts';
import { createCredentialCache } from './credential-cache.ts';
import { limitPacketSize, openGate, setGate } from './packet-limit.ts';
import { createReadingBypassEmitter } from './reading-bypass.ts';
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
  /** scrypt checks of passwords at once, and CONNECTs waiting for one (GS_MQTT_AUTH_CONCURRENCY, GS_MQTT_AUTH_QUEUE). */
  credentialChecks: { concurrency: number; queue: number };
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxPacketBytes: 512 * 1024,
  publish: { device: { ratePerS: 5, burst: 50 }, service: { ratePerS: 500, burst: 5_000 }, disconnectAfter: 100, windowMs: 60_000 },
  maxConnections: 50_000,
  connectsPerIp: { ratePerS: 100, burst: 2_000 },
  credentialChecks: { concurrency: 2, queue: 256 },
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
  ingest: (msg: IngestMessage, settle?: Settle) => void;
  /** MQTT accounts that are not devices (network servers, admins); none when omitted. */
  services?: { get(id: string): ServiceAccount | undefined; authenticate(id: string, secret: string): Promise<ServiceAccount | undefined> };
  limits?: BrokerLimits;
  listeners?: Omit<ListenerOptions, 'host' | 'port' | 'maxMessageBytes'>;
  now?: () => number;
  /**
   * Open the ports only when `listen()` is called (the app creates the broker early, for
   * the features that publish through it, and lets devices in once every feature runs).
   */
  listenLater?: boolean;
}

export type MqttBroker = Awaited<ReturnType<typeof createMqttBroker>>;

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
  const sessions = createSessions<Client>();
  const gate = openGate();
  const peers = new WeakMap<Duplex, string>();
  const unauthenticatedSlot = new WeakMap<Duplex, () => void>();
  const refused = (reason: string) => metrics.authFailures.inc({ reason });

  const dummyHash = await hashSecret(generateSecret());
  const authenticate = createAuthenticator({
    devices: { get: deps.getDevice, authenticate: deps.authenticateDevice },
    services: deps.services ?? noServices,
    cache: createCredentialCache({ key: randomBytes(32), maxEntries: 200_000 }),
    dummyVerify: (secret) => verifySecret(secret, dummyHash),
    countCheck: (via) => metrics.credentialChecks.inc({ via }),
    slowChecks: limits.credentialChecks,
    observeSlowChecks: (running, waiting) => {
      metrics.credentialChecksRunning.set(running);
      metrics.credentialChecksWaiting.set(waiting);
    },
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
    // Readings nobody subscribed to skip aedes' topic matching (reading-bypass.ts).
    mq: createReadingBypassEmitter(deps.isReadingTopic),
    preConnect(client, packet, done) {
      const ip = peers.get(client.conn as Duplex) ?? 'unknown';
      if (!guard.admitConnect(ip)) {
        refused('connect_rate_limited');
        logger.warn({ ip, clientId: packet.clientId }, 'connect rate limit exceeded');
        return done(new Error('connect rate limit exceeded'), false);
      }
      // The broker owns each device's status topic (device-status.ts): a will there gives way to the broker's own.
      if (packet.will?.topic === deviceTopic(packet.clientId, 'status')) delete packet.will;
      done(null, true);
    },

    authenticate(client, username, password, done) {
      sessions.authenticating(client);
      authenticate(client.id, username, password?.toString('utf8')).then(
        (outcome) => {
          if (!outcome.ok) {
            refused(outcome.reason);
            logger.debug({ clientId: client.id, username, reason: outcome.reason }, 'connection refused'); // counted by reason in /metrics; info would flood the log under attack
            return done(Object.assign(new Error(outcome.reason), { returnCode: outcome.returnCode }) as AuthenticateError, false);
          }
          unauthenticatedSlot.get(client.conn as Duplex)?.();
          sessions.authenticated(client, outcome.identity);
          if (outcome.identity.role === 'device') status.takeover(sessions.current(client.id));
          done(null, true);
        },
        (error: unknown) => {
          logger.error({ err: error, clientId: client.id }, 'authentication failed unexpectedly');
          refused('error');
          done(Object.assign(new Error('authentication unavailable'), { returnCode: SERVER_UNAVAILABLE }) as AuthenticateError, false);
        },
      );
    },

    authorizePublish: createAuthorizePublish({
      identity: (client) => sessions.identity(client as Client),
      hasEnded: (client) => status.isSuperseded(client) || sessions.isRevoked(client as Client),
      limit: limiter.check,
      isReadingTopic: deps.isReadingTopic,
      getDevice: deps.getDevice,
      ingest: deps.ingest,
      metrics,
      logger,
    }),

    authorizeSubscribe(client, subscription: Subscription, done) {
      const identity = sessions.identity(client);
      if (identity && canSubscribe(identity, subscription.topic)) return done(null, subscription);
      refused('subscribe_denied');
      logger.warn({ clientId: client.id, topic: subscription.topic }, 'subscription refused');
      done(null, null); // SUBACK 0x80 for this filter; the connection stays
    },
  });

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

  const accept: Parameters<typeof startListeners>[1] = (stream, ip) => {
    const releaseUnauthenticated = guard.holdUnauthenticated(ip);
    if (!releaseUnauthenticated) {
      refused('too_many_connections_from_ip');
      stream.destroy();
      return;
    }
    if (!guard.acquire()) {
      releaseUnauthenticated();
      refused('too_many_connections');
      stream.destroy();
      return;
    }
    metrics.mqttConnections.set(guard.open());
    stream.once('close', () => {
      releaseUnauthenticated();
      guard.release();
      metrics.mqttConnections.set(guard.open());
    });
    const conn = limitPacketSize(stream, limits.maxPacketBytes, (verdict) => {
      refused(verdict === 'too_large' ? 'packet_too_large' : 'malformed_packet');
      logger.warn({ ip, verdict, maxBytes: limits.maxPacketBytes }, 'connection closed: packet refused');
    }, gate);
    peers.set(conn, ip);
    unauthenticatedSlot.set(conn, releaseUnauthenticated);
    aedes.handle(conn);
  };
  let listeners: Awaited<ReturnType<typeof startListeners>> | undefined;
  const listen = async (): Promise<void> => {
    listeners ??= await startListeners({ host: deps.host, port: deps.port, maxMessageBytes: limits.maxPacketBytes + 1024, ...deps.listeners }, accept, logger);
  };
  if (!deps.listenLater) await listen();
  let closing: Promise<void> | undefined;
  const listening = () => {
    if (!listeners) throw new Error('the MQTT broker is not listening yet: call listen() first');
    return listeners;
  };

  return {
    aedes,
    /** Open the ports (a broker created with `listenLater`); once. */
    listen,
    /** The TCP port; throws before `listen()`. */
    get port(): number {
      return listening().ports.port;
    },
    get ports() {
      return listening().ports;
    },
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
    /** Close a device's live connection and any that is mid-connect (lifecycle: rotate, disable). */
    disconnectDevice: (deviceId: string): number => sessions.revoke(deviceId, 'device'),
    disconnectService: (accountId: string): number => sessions.revoke(accountId, 'service'),
    isListening: (): boolean => listeners?.isListening() ?? false,
    /** Stop or resume reading every MQTT socket (the intake gate: backpressure under overload). */
    holdIntake(hold: boolean): void {
      if (hold !== gate.paused) setGate(gate, hold);
    },
    isIntakeHeld: (): boolean => gate.paused,
    /** Close the ports and every client; once, however often called. */
    close(): Promise<void> {
      closing ??= (async () => {
        const closed = listeners?.close();
        await new Promise<void>((resolve) => aedes.close(() => resolve())); // disconnects every client
        await closed;
      })();
      return closing;
    },
  };
}
