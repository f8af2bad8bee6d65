import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../lib/logger.ts';
import type { IngestMessage } from './pipeline.ts';

/** The reading topics of every supported format, as subscription filters. */
export const READING_FILTERS = ['gs/+/up', 'application/+/device/+/event/up', 'application/+/device/+/event/log', 'v3/+/devices/+/up'] as const;

export interface MqttSourceOptions {
  url: string;
  clientId: string;
  /** Shared-subscription group ($share/{group}/...), for brokers that have them (Mosquitto 2, EMQX). */
  group: string | undefined;
  /** Connections in the group: each acknowledges on its own, so durable commits overlap. */
  connections: number;
  username?: string | undefined;
  password?: string | undefined;
  logger: Logger;
  ingest: (msg: IngestMessage) => Promise<void>;
}

/**
 * Ingest from an external broker, for when the broker tier is a clustered engine.
 * Persistent sessions (clean: false, fixed client ids) keep readings queued at the broker
 * while we are away; a QoS 1 PUBACK goes back only after the reading is durable here
 * (mqtt.js `handleMessage`). The external broker authenticated the publisher and
 * enforced its ACL, so the topic names the device.
 */
export async function startMqttSource(options: MqttSourceOptions): Promise<{ close(): Promise<void> }> {
  const { logger } = options;
  const count = options.group ? options.connections : 1;
  const clients: MqttClient[] = [];
  for (let i = 0; i < count; i++) {
    const clientId = count === 1 ? options.clientId : `${options.clientId}-${i}`;
    const client = mqtt.connect(options.url, {
      clientId,
      clean: false,
      protocolVersion: 4,
      username: options.username,
      password: options.password,
      reconnectPeriod: 1_000,
      resubscribe: false, // done below on every connect that finds no session
    });
    // mqtt.js sends the PUBACK when handleMessage calls back (one message at a time per
    // connection, hence several connections in a shared group).
    client.handleMessage = (packet, callback) => {
      if (packet.cmd !== 'publish') return callback();
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      options.ingest({ topic: packet.topic, payload, qos: packet.qos }).then(() => callback(), (error: unknown) => callback(error as Error));
    };
    client.on('error', (error) => logger.warn({ clientId, err: error.message }, 'external broker connection error'));
    client.on('reconnect', () => logger.info({ clientId }, 'reconnecting to the external broker'));
    const filters = READING_FILTERS.map((f) => (options.group ? `$share/${options.group}/${f}` : f));
    const subscribe = () => new Promise<void>((resolve, reject) => {
      client.subscribe(filters, { qos: 1 }, (error, granted) => {
        if (error) return reject(error);
        const refused = granted?.filter((g) => g.qos === 128) ?? [];
        if (refused.length > 0) return reject(new Error(`external broker refused subscriptions: ${refused.map((g) => g.topic).join(', ')}`));
        resolve();
      });
    });
    clients.push(client); // before the first connect, so a failed start ends it too
    await new Promise<void>((resolve, reject) => {
      // Every connect, not only the first: a broker that lost our session (a restart without
      // persistence, a takeover with a clean session) lost its subscriptions with it, and
      // mqtt.js only renews those it saw us make, none when the first connect found the session.
      client.on('connect', (connack) => {
        if (connack.sessionPresent) return resolve(); // the broker kept our subscriptions
        subscribe().then(resolve, (error: unknown) => {
          logger.error({ clientId, err: (error as Error).message }, 'external broker subscription failed');
          reject(error as Error);
        });
      });
      client.once('error', reject);
    }).catch(async (error: unknown) => {
      // A failed start must not leave the other connections reconnecting forever.
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
      throw error;
    });
  }
  logger.info({ url: redact(options.url), group: options.group, connections: count }, 'consuming readings from the external broker');
  return {
    async close() {
      await Promise.all(clients.map((c) => c.endAsync()));
    },
  };
}

const redact = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');
