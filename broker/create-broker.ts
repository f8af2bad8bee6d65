import './quiet-packet-debug.ts'; // before aedes loads mqtt-packet
import { Aedes, type Client, type PublishPacket } from 'aedes';
import type { DeviceInfo } from '../contracts/device.ts';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../lib/metrics.ts';
import { createRefusalLog } from '../lib/refusal-log.ts';
import type { IngestMessage, Settle } from '../ingest/pipeline.ts';
import type { ServiceAccount } from '../registry/service-accounts.ts';
import { createAccept } from './accept.ts';
import { DEFAULT_PER_ADDRESS, type AuthQueueOptions } from './auth-queue.ts';
import type { AccountStore } from './authenticate.ts';
import { createAuthorizePublish } from './authorize-publish.ts';
import { createAuthorizeSubscribe, createPreConnect, watchClients } from './client-hooks.ts';
import { createCredentialCheck } from './credential-check.ts';
import { createSessions } from './sessions.ts';
import { openGate, setGate } from './packet-limit.ts';
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
  /**
   * scrypt checks of passwords at once, CONNECTs waiting for one (GS_MQTT_AUTH_CONCURRENCY,
   * GS_MQTT_AUTH_QUEUE), and the failed checks an address may cause (auth-queue.ts).
   */
  credentialChecks: { concurrency: number; queue: number; perAddress?: AuthQueueOptions['perAddress'] };
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxPacketBytes: 512 * 1024,
  publish: { device: { ratePerS: 5, burst: 50 }, service: { ratePerS: 500, burst: 5_000 }, disconnectAfter: 100, windowMs: 60_000 },
  maxConnections: 50_000,
  connectsPerIp: { ratePerS: 100, burst: 2_000 },
  credentialChecks: { concurrency: 2, queue: 256, perAddress: DEFAULT_PER_ADDRESS },
};

export interface BrokerDeps {
  host: string;
  port: number;
  logger: Logger;
  metrics: Metrics;
  /** Verify a device's credentials; undefined when unknown, disabled or wrong. */
  authenticateDevice: (id: string, secret: string) => Promise<DeviceInfo | undefined>;
  /** Whether the device's secret is a keyed hash (checked at once) or a legacy scrypt hash (the bounded queue). */
  deviceHasKeyedHash: (id: string) => boolean;
  getDevice: (id: string) => DeviceInfo | undefined;
  /** Which topics carry readings for the ingest (the rest are only routed). */
  isReadingTopic: (topic: string) => boolean;
  /** Resolves once the reading is durable; the PUBACK waits for it. */
  ingest: (msg: IngestMessage, settle?: Settle) => void;
  /** MQTT accounts that are not devices (network servers, admins); none when omitted. */
  services?: AccountStore<ServiceAccount>;
  limits?: BrokerLimits;
  listeners?: Omit<ListenerOptions, 'host' | 'port' | 'maxMessageBytes'>;
  now?: () => number;
  /**
   * Open the ports only when `listen()` is called (the app creates the broker early, for
   * the features that publish through it, and lets devices in once every feature runs).
   */
  listenLater?: boolean;
  /**
   * The clustered mode's shared tier (cluster/redis-tier.ts): aedes' message bus and
   * persistence over Redis instead of in this process. Readings then go through the bus
   * too: a subscriber to reading topics on another node must see them, and this node
   * cannot know the other nodes' subscriptions, so the reading shortcut is off.
   */
  cluster?: { mq: unknown; persistence: unknown };
}

export type MqttBroker = Awaited<ReturnType<typeof createMqttBroker>>;

const noServices: AccountStore<ServiceAccount> = { get: () => undefined, hasKeyedHash: () => true, authenticate: async () => undefined };
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
  const refused = (reason: string) => metrics.authFailures.inc({ reason });
  const refusals = createRefusalLog({ logger });
  const limiter = createPublishLimiter(limits.publish, now);
  const guard = createConnectionGuard({ maxConnections: limits.maxConnections, perIp: limits.connectsPerIp, now });
  const status = createDeviceStatus({
    now,
    publish: (topic, body) => aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(body)), qos: 1, retain: true, dup: false }, (error) => {
      if (error) logger.error({ err: error, topic }, 'status publish failed');
    }),
  });
  const { accept, peerOf } = createAccept({
    guard, maxPacketBytes: limits.maxPacketBytes, gate, metrics, refusals, refused,
    handle: (conn) => aedes.handle(conn),
  });
  const hookDeps = { refusals, refused, peerOf };

  const aedes: Aedes = await Aedes.createBroker({
    connectTimeout: 10_000,
    // Readings nobody subscribed to skip aedes' topic matching (reading-bypass.ts).
    mq: deps.cluster?.mq ?? createReadingBypassEmitter(deps.isReadingTopic),
    ...(deps.cluster ? { persistence: deps.cluster.persistence } : {}),
    preConnect: createPreConnect({ ...hookDeps, guard }),
    authenticate: await createCredentialCheck({
      ...hookDeps,
      devices: { get: deps.getDevice, hasKeyedHash: deps.deviceHasKeyedHash, authenticate: deps.authenticateDevice },
      services: deps.services ?? noServices,
      slowChecks: limits.credentialChecks,
      metrics,
      logger,
      now,
      starting: (client) => sessions.authenticating(client),
      accepted: (client, identity) => {
        sessions.authenticated(client, identity);
        if (identity.role === 'device') status.takeover(sessions.current(client.id));
      },
    }),
    authorizePublish: createAuthorizePublish({
      identity: (client) => sessions.identity(client as Client),
      hasEnded: (client) => status.isSuperseded(client) || sessions.isRevoked(client as Client),
      limit: limiter.check,
      isReadingTopic: deps.isReadingTopic,
      getDevice: deps.getDevice,
      ingest: deps.ingest,
      metrics,
      refusals,
      addressOf: (client) => peerOf(client.conn)?.ip ?? 'unknown',
    }),
    authorizeSubscribe: createAuthorizeSubscribe({ ...hookDeps, sessions }),
  });
  watchClients(aedes, { sessions, status, metrics, logger });
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
    ...systemClient(aedes, logger),
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
        // The last statuses (the offline of every client closed) go out while aedes still takes publishes.
        aedes.once('closed', () => status.flush());
        await new Promise<void>((resolve) => aedes.close(() => resolve())); // disconnects every client
        await closed;
        refusals.close();
      })();
      return closing;
    },
  };
}

/** The system's own publishing and subscribing (commands, retained status, acks), beside the devices'. */
function systemClient(aedes: Aedes, logger: Logger) {
  return {
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
  };
}
