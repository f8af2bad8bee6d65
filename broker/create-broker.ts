import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Identity } from '../contracts/identity.ts';
import type { DeviceInfo } from '../contracts/device.ts';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../lib/metrics.ts';
import type { IngestMessage } from '../ingest/pipeline.ts';
import { canPublish, canSubscribe } from './acl.ts';

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
}

// MQTT 3.1.1 CONNACK return codes
const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;

const authError = (message: string, returnCode: number): AuthenticateError =>
  Object.assign(new Error(message), { returnCode }) as AuthenticateError;

export type MqttBroker = Awaited<ReturnType<typeof createMqttBroker>>;

/**
 * The embedded Aedes broker: policy lives in its hooks, each wrapped once here.
 * Readings are handed to the ingest inside `authorizePublish`, the one hook that runs
 * before aedes writes the PUBACK, so a QoS 1 acknowledgement means "durable".
 */
export async function createMqttBroker(deps: BrokerDeps) {
  const { logger, metrics } = deps;
  const identities = new WeakMap<Client, Identity>();

  const aedes = await Aedes.createBroker({
    connectTimeout: 10_000,
    authenticate(client, username, password, done) {
      const fail = (reason: string, error: AuthenticateError) => {
        metrics.authFailures.inc({ reason });
        logger.info({ clientId: client.id, username, reason }, 'connection refused');
        done(error, false);
      };
      if (!username || !password) return fail('no_credentials', authError('credentials required', BAD_USERNAME_OR_PASSWORD));
      if (client.id !== username) return fail('client_id_mismatch', authError('client id must equal the device id', IDENTIFIER_REJECTED));
      deps.authenticateDevice(username, password.toString('utf8')).then(
        (device) => {
          if (!device) return fail('bad_credentials', authError('bad username or password', BAD_USERNAME_OR_PASSWORD));
          identities.set(client, { role: 'device', deviceId: device.id });
          done(null, true);
        },
        (error: unknown) => {
          logger.error({ err: error, clientId: client.id }, 'authentication failed unexpectedly');
          fail('error', authError('authentication unavailable', 3));
        },
      );
    },

    authorizePublish(client, packet, done) {
      if (!client) return done(null); // the broker's own publishes (wills, retained status)
      const identity = identities.get(client);
      if (!identity || !canPublish(identity, packet.topic)) {
        metrics.authFailures.inc({ reason: 'publish_denied' });
        metrics.readingsRejected.inc({ reason: 'topic_not_allowed' });
        logger.warn({ clientId: client.id, topic: packet.topic }, 'publish refused');
        return done(new Error('publish not authorized')); // MQTT 3.1.1: the connection is closed
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
      metrics.authFailures.inc({ reason: 'subscribe_denied' });
      logger.warn({ clientId: client.id, topic: subscription.topic }, 'subscription refused');
      done(null, null); // SUBACK 0x80 for this filter; the connection stays
    },
  });

  const updateClients = () => metrics.connectedClients.set(aedes.connectedClients);
  aedes.on('client', updateClients);
  aedes.on('clientDisconnect', updateClients);
  aedes.on('clientError', (client, error) => logger.debug({ clientId: client.id, err: error.message }, 'client error'));

  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port, deps.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    aedes,
    port,
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
    isListening: (): boolean => server.listening,
    async close(): Promise<void> {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve())); // disconnects every client
      await closed;
    },
  };
}

const toBuffer = (payload: string | Buffer): Buffer => (typeof payload === 'string' ? Buffer.from(payload) : payload);
