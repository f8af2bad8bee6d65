import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { Config } from '../config/config.ts';
import { createLogger } from '../lib/logger.ts';
import { startApp, type App } from '../app.ts';
import { freePort, startInfluxd } from '../influx/influxd-process.ts';
import { startRedisServer } from '../cluster/redis-process.ts';
import { startMosquitto } from './mosquitto-process.ts';

/**
 * `npm run bench:cluster`: what the clustered broker tier (GS_CLUSTER=redis) costs, beside
 * one process and beside the relay an external broker (Mosquitto) would add. Three runs,
 * medians. Figures and the reading of them: BENCHMARKS.md, docs/cluster.md.
 * - command round trip: the system publishes a valve command, a valve client acks it, the
 *   system's own subscriber has the ack (one process: valve on the same node; clustered:
 *   published on node A, valve on node B; Mosquitto: two plain clients through it, the
 *   relay alone — the app in external-broker mode has no command path at all);
 * - QoS 1 readings accepted per second by one node (PUBACKs, durable acks on), one
 *   process vs a clustered node whose every publish also goes through Redis.
 */
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 3;
const ROUND_TRIPS = 200;
/**
 * Idle time before each round trip: the broker's sockets keep Nagle's algorithm on, so a
 * command written while the last ack's PUBACK is still unacknowledged at the TCP level
 * waits for loopback's 40 ms delayed ACK. A command every minute never meets that; a
 * back-to-back loop would measure only it.
 */
const GAP_MS = 60;
const READINGS = 5_000;
const INFLIGHT = 100;

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]!; };

const connect = (port: number, opts: mqtt.IClientOptions): Promise<MqttClient> => new Promise((resolve, reject) => {
  const c = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: 4, reconnectPeriod: 0, ...opts });
  // Nagle's algorithm against loopback's delayed ACK adds ~40 ms to a publish that follows a
  // PUBACK (the valve's ack after the command's PUBACK): off, so the figures show the tiers.
  c.once('connect', () => { (c.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true); resolve(c); });
  c.once('error', reject);
});
const subscribe = (c: MqttClient, topic: string): Promise<void> => new Promise((resolve, reject) => c.subscribe(topic, { qos: 1 }, (e) => (e ? reject(e) : resolve())));

async function startNode(influxUrl: string, redisUrl: string | undefined): Promise<{ app: App; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gs-bench-cluster-'));
  const config = Config.parse({
    mqttHost: '127.0.0.1', mqttPort: 0, httpHost: '127.0.0.1', httpPort: 0, influxUrl, influxDb: 'bench_cluster', managedInfluxd: 'never', dataDir,
    adminToken: 'bench-admin-token-0123456789', logLevel: 'silent', mqttPublishRatePerS: 100_000, mqttPublishBurst: 100_000,
    ...(redisUrl ? { cluster: 'redis', redisUrl } : {}),
  });
  const app = await startApp(config, createLogger('silent'));
  return { app, async stop() { await app.stop({ drainMs: 2_000 }); rmSync(dataDir, { recursive: true, force: true }); } };
}

/** The system publishes on `from`, the valve on `valveNode` acks, `from`'s subscriber sees it. */
async function commandRoundTrips(from: App, valvePort: number, id: string, secret: string): Promise<number[]> {
  const valve = await connect(valvePort, { clientId: id, username: id, password: secret });
  await subscribe(valve, `gs/${id}/down`);
  valve.on('message', (_t, payload) => valve.publish(`gs/${id}/ack`, payload, { qos: 1 }));
  let waiting: ((body: string) => void) | undefined;
  await from.broker.subscribe(`gs/${id}/ack`, (_t, payload) => waiting?.(payload.toString()));
  await new Promise((r) => setTimeout(r, 200)); // the subscriptions reach every node
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const body = JSON.stringify({ commandId: `c${i}`, action: 'open', issuedAt: Date.now() });
    await new Promise((r) => setTimeout(r, GAP_MS));
    const got = new Promise<string>((resolve) => { waiting = resolve; });
    const t0 = performance.now();
    await from.broker.publish({ topic: `gs/${id}/down`, payload: Buffer.from(body), qos: 1, retain: false });
    await got;
    times.push(performance.now() - t0);
  }
  valve.end(true);
  return times;
}

async function mosquittoRoundTrips(port: number): Promise<number[]> {
  const system = await connect(port, { clientId: 'system' });
  const valve = await connect(port, { clientId: 'valve' });
  await subscribe(valve, 'gs/v/down');
  await subscribe(system, 'gs/v/ack');
  valve.on('message', (_t, payload) => valve.publish('gs/v/ack', payload, { qos: 1 }));
  let waiting: (() => void) | undefined;
  system.on('message', () => waiting?.());
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    await new Promise((r) => setTimeout(r, GAP_MS));
    const got = new Promise<void>((resolve) => { waiting = resolve; });
    const t0 = performance.now();
    system.publish('gs/v/down', JSON.stringify({ commandId: `c${i}` }), { qos: 1 });
    await got;
    times.push(performance.now() - t0);
  }
  system.end(true);
  valve.end(true);
  return times;
}

/** QoS 1 readings from one device, INFLIGHT at a time; readings PUBACKed per second. */
async function acceptedPerS(app: App, id: string, secret: string): Promise<number> {
  const c = await connect(app.mqttPort, { clientId: id, username: id, password: secret });
  const base = Date.now() - 60_000;
  const t0 = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < READINGS) {
      const seq = next++;
      await new Promise<void>((resolve, reject) => c.publish(`gs/${id}/up`, JSON.stringify({ ts: base + seq, seq, moisture: 30 }), { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, lane));
  const s = (performance.now() - t0) / 1000;
  c.end(true);
  return READINGS / s;
}

async function main(): Promise<void> {
  const influxDir = mkdtempSync(join(tmpdir(), 'gs-bench-influxd-'));
  const redisDir = mkdtempSync(join(tmpdir(), 'gs-bench-redis-'));
  const influxd = await startInfluxd({ dir: influxDir, port: await freePort() });
  const redis = await startRedisServer({ dir: redisDir, port: await freePort() });
  const mosquitto = await startMosquitto();
  const results: Record<string, number[]> = {};
  const add = (name: string, value: number) => { (results[name] ??= []).push(value); };
  try {
    for (let run = 0; run < RUNS; run++) {
      const one = await startNode(influxd.url, undefined);
      const secret1 = (await one.app.devices.register({ id: `v1-${run}`, kind: 'valve' } as never)).secret;
      const rt1 = await commandRoundTrips(one.app, one.app.mqttPort, `v1-${run}`, secret1);
      add('command_rtt_one_process_p50_ms', median(rt1));
      add('command_rtt_one_process_p95_ms', pct(rt1, 0.95));
      const s1 = (await one.app.devices.register({ id: `s1-${run}`, kind: 'soil' } as never)).secret;
      add('qos1_accepted_one_process_per_s', await acceptedPerS(one.app, `s1-${run}`, s1));
      await one.stop();

      const a = await startNode(influxd.url, redis.url);
      const b = await startNode(influxd.url, redis.url);
      // The valve is registered on node B, where it connects; node A only publishes to its topic.
      const secret2 = (await b.app.devices.register({ id: `v2-${run}`, kind: 'valve' } as never)).secret;
      const rt2 = await commandRoundTrips(a.app, b.app.mqttPort, `v2-${run}`, secret2);
      add('command_rtt_clustered_a_to_b_p50_ms', median(rt2));
      add('command_rtt_clustered_a_to_b_p95_ms', pct(rt2, 0.95));
      const s2 = (await a.app.devices.register({ id: `s2-${run}`, kind: 'soil' } as never)).secret;
      add('qos1_accepted_clustered_node_per_s', await acceptedPerS(a.app, `s2-${run}`, s2));
      await b.stop();
      await a.stop();

      const rt3 = await mosquittoRoundTrips(mosquitto.port);
      add('command_rtt_mosquitto_relay_p50_ms', median(rt3));
      add('command_rtt_mosquitto_relay_p95_ms', pct(rt3, 0.95));
    }
  } finally {
    await mosquitto.stop();
    await redis.stop();
    await influxd.stop();
    rmSync(influxDir, { recursive: true, force: true });
    rmSync(redisDir, { recursive: true, force: true });
  }
  for (const [name, values] of Object.entries(results)) {
    process.stdout.write(`${name.padEnd(40)} median ${median(values).toFixed(name.endsWith('_ms') ? 2 : 0).padStart(9)}   runs ${values.map((v) => v.toFixed(name.endsWith('_ms') ? 2 : 0)).join(', ')}\n`);
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
