import mqtt, { type MqttClient } from 'mqtt';
import { deviceTopic } from '../../contracts/topics.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Random } from '../../lib/random.ts';
import type { Timers } from '../sim-clock.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';

export interface ConnectionDeps {
  url: string;
  id: string;
  secret: string;
  backoff: BackoffPolicy;
  rng: Random;
  timers: Timers;
  /** Device time for the status timestamp. */
  now: () => number;
  subscriptions: string[];
  onConnect: () => void;
  onMessage: (topic: string, payload: Buffer) => void;
  events: { connected(first: boolean): void; connectFailed(): void };
  logger: Logger;
  keepaliveS?: number;
}

export type Connection = ReturnType<typeof createConnection>;

const OFFLINE = JSON.stringify({ state: 'offline' });

/**
 * One device's MQTT session, as field firmware keeps it: credentials = its id and secret,
 * a retained offline last will, a retained online status on every connect, and its own
 * reconnect loop with exponential backoff and full jitter (mqtt.js's fixed
 * reconnectPeriod would bring a whole fleet back in lockstep after a broker restart).
 * A fresh mqtt.js client per attempt, so nothing of a dead session's state lingers; a
 * publish in flight when the connection drops is failed back to the caller.
 */
export function createConnection(deps: ConnectionDeps) {
  const status = deviceTopic(deps.id, 'status');
  let client: MqttClient | undefined;
  let attempt = 0;
  let everConnected = false;
  let stopped = true;
  let reachable = true;
  let timer: unknown;
  let subscribed = false;
  const inflight = new Set<(error: Error) => void>();

  function schedule(): void {
    const delay = backoffDelay(attempt++, deps.backoff, deps.rng);
    timer = deps.timers.setTimeout(connect, delay);
  }

  function connect(): void {
    timer = undefined;
    if (stopped) return;
    if (!reachable) {
      // The radio link is down: the attempt fails without reaching the broker.
      deps.events.connectFailed();
      return schedule();
    }
    const c = mqtt.connect(deps.url, {
      clientId: deps.id,
      username: deps.id,
      password: deps.secret,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: deps.keepaliveS ?? 60,
      will: { topic: status, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
    });
    client = c;
    subscribed = false;
    let closed = false;
    let up = false;
    c.on('connect', () => {
      up = true;
      attempt = 0;
      deps.events.connected(!everConnected);
      everConnected = true;
      c.publish(status, JSON.stringify({ state: 'online', ts: deps.now() }), { qos: 1, retain: true });
      // Ready once its command topic is subscribed: a command sent before the SUBACK is lost (clean session).
      if (deps.subscriptions.length > 0) c.subscribe(deps.subscriptions, { qos: 1 }, () => { if (client === c) subscribed = true; });
      else subscribed = true;
      deps.onConnect();
    });
    c.on('message', (topic, payload) => deps.onMessage(topic, payload));
    c.on('error', (error) => deps.logger.debug({ device: deps.id, err: error.message }, 'mqtt error'));
    c.on('close', () => {
      if (closed) return;
      closed = true;
      if (!up) deps.events.connectFailed();
      for (const fail of [...inflight]) fail(new Error('connection lost'));
      c.end(true);
      if (client === c) client = undefined;
      if (!stopped) schedule();
    });
  }

  return {
    start(): void {
      if (!stopped) return;
      stopped = false;
      connect();
    },
    isConnected: (): boolean => client?.connected === true,
    /** Connected, and subscribed to its command topic if it has one. */
    isReady: (): boolean => client?.connected === true && subscribed,
    /** Resolves on PUBACK (QoS 1); rejects when not connected or when the connection drops first. */
    publish(topic: string, payload: string, options: { qos: 0 | 1; retain?: boolean } = { qos: 1 }): Promise<void> {
      const c = client;
      if (!c?.connected) return Promise.reject(new Error('not connected'));
      return new Promise((resolve, reject) => {
        let settled = false;
        const fail = (error: Error) => {
          if (settled) return;
          settled = true;
          inflight.delete(fail);
          reject(error);
        };
        inflight.add(fail);
        c.publish(topic, payload, { qos: options.qos, retain: options.retain ?? false }, (error) => {
          if (settled) return;
          settled = true;
          inflight.delete(fail);
          if (error) reject(error);
          else resolve();
        });
      });
    },
    /** The link goes down or comes back (gateway outage); going down cuts the socket, so the broker sends the will. */
    setReachable(value: boolean): void {
      reachable = value;
      if (!value) client?.stream.destroy();
    },
    /** Cut the socket without a DISCONNECT, as a lost link does. */
    drop(): void {
      client?.stream.destroy();
    },
    /** Leave cleanly: retained offline status, then DISCONNECT (no will is sent for a clean disconnect). */
    async stop(): Promise<void> {
      stopped = true;
      if (timer !== undefined) deps.timers.clearTimeout(timer);
      const c = client;
      client = undefined;
      if (!c) return;
      if (!c.connected) {
        c.end(true);
        return;
      }
      await new Promise<void>((resolve) => c.publish(status, OFFLINE, { qos: 1, retain: true }, () => resolve()));
      await new Promise<void>((resolve) => c.end(false, {}, () => resolve()));
    },
  };
}
