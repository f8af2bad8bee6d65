import mqtt, { type MqttClient } from 'mqtt';

/**
 * A device that knows several broker addresses, as field firmware given a cluster's nodes
 * does: it connects to its first, and when that connection fails or drops it tries the next
 * (mqtt.js `servers`, in turn, every `reconnectMs`). Readings are QoS 1 with the device's
 * own timestamp and a sequence number; one not yet acknowledged when the connection drops
 * stays in the client's store and is sent again, with the same number and timestamp, on the
 * next connection (firmware keeps unacknowledged readings for the same reason). A
 * persistent session (`clean: false`), so a valve's subscription outlives the move.
 *
 * What it records is what a failover test asserts on: every reading acknowledged (seq →
 * device timestamp and the port that acknowledged it), and every connection made.
 */
export interface FailoverClientOptions {
  id: string;
  secret: string;
  /** The nodes' MQTT addresses, its home first. */
  servers: ReadonlyArray<{ host: string; port: number }>;
  reconnectMs?: number;
  connectTimeoutMs?: number;
}

export interface Ack { seq: number; ts: number; at: number; port: number | undefined }

export function startFailoverClient(o: FailoverClientOptions) {
  const client: MqttClient = mqtt.connect({
    servers: o.servers.map((s) => ({ host: s.host, port: s.port })),
    protocol: 'mqtt',
    protocolVersion: 4,
    clientId: o.id,
    username: o.id,
    password: o.secret,
    clean: false,
    reconnectPeriod: o.reconnectMs ?? 250,
    connectTimeout: o.connectTimeoutMs ?? 3_000,
  });
  const connects: Array<{ at: number; port: number | undefined }> = [];
  const streamPort = (): number | undefined => (client.stream as unknown as { remotePort?: number } | undefined)?.remotePort;
  const remotePort = (): number | undefined => (client.connected ? streamPort() : undefined);
  // The CONNACK itself: mqtt.js emits 'connect' only once it has sent again what it held.
  client.on('packetreceive', (packet) => {
    if (packet.cmd === 'connack' && packet.returnCode === 0) connects.push({ at: Date.now(), port: streamPort() });
  });
  client.on('error', () => undefined); // a refused or dropped connection: the next server is tried
  return {
    client,
    connects,
    /** The node's MQTT port it is connected to now, if any. */
    get port(): number | undefined { return remotePort(); },
    end: (): Promise<void> => new Promise((resolve) => client.end(true, {}, () => resolve())),
  };
}

/**
 * A soil sensor streaming one reading every `intervalMs` through a failover client, its
 * moisture a function of the sequence number (so a stored point can be matched to what
 * was sent); publishing goes on while disconnected (the client holds the readings).
 */
export function startStreamingSensor(o: FailoverClientOptions & { intervalMs: number; moisture?: (seq: number) => number }) {
  const device = startFailoverClient(o);
  const moisture = o.moisture ?? ((seq: number) => 20 + (seq % 100) / 10);
  const sent = new Map<number, number>(); // seq → ts
  const acked: Ack[] = [];
  let seq = 0;
  let lastTs = 0;
  let waiters: Array<() => void> = [];
  const publishOne = () => {
    const n = seq++;
    const ts = Math.max(Date.now(), lastTs + 1); // the device's clock; one point per reading
    lastTs = ts;
    sent.set(n, ts);
    device.client.publish(`gs/${o.id}/up`, JSON.stringify({ ts, seq: n, moisture: moisture(n) }), { qos: 1 }, (error) => {
      if (error) return; // ended before its PUBACK: not acknowledged
      acked.push({ seq: n, ts, at: Date.now(), port: device.port });
      if (acked.length === sent.size) for (const w of waiters.splice(0)) w();
    });
  };
  const timer = setInterval(publishOne, o.intervalMs);
  return {
    client: device.client,
    connects: device.connects,
    get port(): number | undefined { return device.port; }, // not spread: a getter would be copied as its value now
    sent,
    acked,
    moisture,
    /** Stop sending new readings (those in flight are still retransmitted until acknowledged). */
    stopPublishing: () => clearInterval(timer),
    /** Resolves once every reading sent is acknowledged; rejects after `timeoutMs`. */
    drained(timeoutMs: number): Promise<void> {
      if (acked.length === sent.size) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${o.id}: ${sent.size - acked.length} of ${sent.size} readings unacknowledged after ${timeoutMs} ms`)), timeoutMs);
        waiters.push(() => { clearTimeout(t); resolve(); });
      });
    },
    async end(): Promise<void> {
      clearInterval(timer);
      waiters = [];
      await device.end();
    },
  };
}
export type StreamingSensor = ReturnType<typeof startStreamingSensor>;
