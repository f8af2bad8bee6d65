import mqtt, { type MqttClient } from 'mqtt';

/**
 * The load generator, run as its own process so it gets its own core: connects each
 * device, publishes `perClient` native readings at QoS 0 or 1 (a bounded in-flight
 * window per connection for QoS 1) at the maximum or a target total rate, then prints
 * one JSON line: { sent, acked, firstAt, lastAt }.
 */
interface Job {
  port: number;
  devices: Array<{ id: string; secret: string }>;
  perClient: number;
  qos: 0 | 1;
  /** Total msgs/s over all clients; 0 = as fast as possible. */
  rate: number;
  window: number;
  anonymous?: boolean;
}

const job = JSON.parse(process.env.GS_BENCH_JOB ?? '{}') as Job;

async function connect(device: { id: string; secret: string }): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect({
      host: '127.0.0.1', port: job.port, protocolVersion: 4, reconnectPeriod: 0, clientId: device.id,
      ...(job.anonymous ? {} : { username: device.id, password: device.secret }),
    });
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

async function run(): Promise<void> {
  const clients = await Promise.all(job.devices.map(connect));
  let acked = 0;
  let sent = 0;
  const firstAt = Date.now();
  const perClientInterval = job.rate > 0 ? (1000 * clients.length) / job.rate : 0;
  await Promise.all(clients.map(async (client, c) => {
    const id = job.devices[c]!.id;
    const topic = `gs/${id}/up`;
    let inflight = 0;
    let lastTs = 0;
    let wake: (() => void) | undefined;
    const started = Date.now();
    for (let seq = 0; seq < job.perClient; seq++) {
      if (perClientInterval > 0) {
        const due = started + seq * perClientInterval;
        const wait = due - Date.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      }
      // ts = publish time, the start of the publish → stored latency; made unique per
      // device (1 ms apart at least) so that no point overwrites another in InfluxDB.
      const ts = Math.max(Date.now(), lastTs + 1);
      lastTs = ts;
      const payload = `{"ts":${ts},"seq":${seq},"moisture":${20 + (seq % 50) / 10},"temperature":18.5,"battery":90}`;
      sent++;
      if (job.qos === 0) {
        client.publish(topic, payload, { qos: 0 });
        if (seq % 200 === 199) await new Promise((r) => setImmediate(r));
        continue;
      }
      while (inflight >= job.window) await new Promise<void>((r) => { wake = r; });
      inflight++;
      client.publish(topic, payload, { qos: 1 }, (error) => {
        inflight--;
        if (!error) acked++;
        const w = wake;
        wake = undefined;
        w?.();
      });
    }
    while (inflight > 0) await new Promise<void>((r) => { wake = r; });
  }));
  const lastAt = Date.now();
  await Promise.all(clients.map((c) => c.endAsync()));
  process.stdout.write(`${JSON.stringify({ sent, acked, firstAt, lastAt })}\n`);
}

run().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
