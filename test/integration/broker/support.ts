import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import type { TestApp } from '../../helpers/app.ts';

/** One sample of a Prometheus counter from /metrics (0 when the series does not exist yet). */
export async function metricValue(t: TestApp, name: string, labels: Record<string, string> = {}): Promise<number> {
  const body = (await t.app.api.inject({ url: '/metrics' })).body;
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
  for (const line of body.split('\n')) {
    const match = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (match && match[1] === name && (match[2] ?? '') === wanted) return Number(match[3]);
  }
  return 0;
}

export const closed = (client: MqttClient): Promise<void> =>
  new Promise((resolve) => (client.disconnected || !client.connected ? resolve() : client.once('close', () => resolve())));

/** Subscribe and return the granted QoS (128 = refused). */
export function subscribeGranted(client: MqttClient, filter: string): Promise<number> {
  return new Promise((resolve, reject) =>
    client.subscribe(filter, { qos: 1 }, (error, _subs, packet) => {
      const code = (packet as { granted?: number[] } | undefined)?.granted?.[0];
      if (code === undefined) reject(error ?? new Error('no SUBACK'));
      else resolve(code);
    }),
  );
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const api = (t: TestApp, token: string) => ({
  post: (url: string, payload?: unknown) => t.app.api.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) }),
  get: (url: string) => t.app.api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } }),
});

/** Connect and report how it ended: connected, refused by CONNACK (its message), or closed without a CONNACK. */
export function tryConnect(port: number, options: import('mqtt').IClientOptions): Promise<{ outcome: 'connected' | 'refused' | 'closed'; client: MqttClient; message?: string }> {
  return new Promise((resolve) => {
    const client = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
    client.once('connect', () => resolve({ outcome: 'connected', client }));
    client.once('error', (error) => { client.end(true); resolve({ outcome: 'refused', client, message: error.message }); });
    client.once('close', () => resolve({ outcome: 'closed', client }));
  });
}
