import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { Redis } from 'ioredis';
import { ACKED_NODES } from '../cluster/redis-ack-replica.ts';
import { createInfluxHttp } from '../influx/http.ts';
import { freePort, startInfluxd } from '../influx/influxd-process.ts';
import { startRedisServer } from '../cluster/redis-process.ts';
import { startStreamingSensor } from '../firmware-sim/failover-client.ts';
import { prepareFailoverCluster, type FailoverNode } from './failover-cluster.ts';

/**
 * `npm run bench:failover`: what a second node costs and what it buys (issue 17). Real app
 * processes (bench/failover-cluster.ts: one registry restored into each node's data
 * directory, one credential key file, one Redis, one InfluxDB). Three runs, medians.
 * - stored readings/s: SENSORS devices each publish READINGS_EACH QoS 1 readings (device
 *   timestamps, INFLIGHT unacknowledged at a time) as fast as acknowledged, until every
 *   one is counted in InfluxDB: one process (the default mode), one clustered node, and
 *   two clustered nodes with the devices spread over both. On this 2-core host the nodes,
 *   Redis, influxd and the generator share the cores: the figures show what the cluster
 *   costs, not how it scales on two hosts.
 * - failover: two clustered nodes, devices streaming (one reading every STREAM_MS each),
 *   half on each; kill -9 of one; the time until every one of its devices is connected
 *   to the survivor, and until every one has a reading acknowledged there; and until the
 *   survivor holds every community's lease (the rules of the killed node's communities
 *   run there: a 10 s lease, rounds of 3 s); and until the survivor has written the killed
 *   node's copies of what it acknowledged (cluster/ack-recovery.ts: its heartbeat lapses
 *   in 3 s), with how many points they held (acknowledged and not yet shipped, or shipped
 *   but not yet trimmed).
 * The nodes inherit this process' environment: `GS_CLUSTER_ACK_REPLICA=off npm run
 * bench:failover` measures the cluster without the copies of acknowledged points in Redis.
 * `-- --runs N`, `-- --sensors N`, `-- --replica-ab N` (only the stored rates, the copies on
 * and off in N back-to-back pairs). Also `npm run bench -- --only failover` (bench/run.ts:
 * opt-in only, since it needs redis-server and starts five app processes a run).
 */
const args = process.argv.slice(2);
const option = (name: string): number | undefined => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : undefined);
const RUNS = option('--runs') ?? 3;
const SENSORS = option('--sensors') ?? 40;
const READINGS_EACH = 500;
const INFLIGHT = 20;
const STREAM_MS = 100;
const ADMIN_TOKEN = 'bench-admin-token-0123456789';

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const connect = (port: number, id: string, secret: string): Promise<MqttClient> => new Promise((resolve, reject) => {
  const c = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: 4, clientId: id, username: id, password: secret, reconnectPeriod: 0 });
  c.once('connect', () => resolve(c));
  c.once('error', reject);
});

/** One device's readings, INFLIGHT at a time, each resolved on its PUBACK. */
async function pump(c: MqttClient, id: string, base: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < READINGS_EACH) {
      const seq = next++;
      await new Promise<void>((resolve, reject) => c.publish(`gs/${id}/up`, JSON.stringify({ ts: base + seq, seq, moisture: 20 + (seq % 100) / 10 }), { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, lane));
}

async function countStored(influxUrl: string, db: string): Promise<number> {
  const [statement = []] = await createInfluxHttp({ url: influxUrl, db }).query('SELECT count(moisture) FROM soil').catch(() => []);
  return Number(statement[0]?.values[0]?.[1] ?? 0); // nothing written yet: no database, no rows
}

/** Readings stored per second, from the first publish until InfluxDB counts them all. */
async function storedPerS(env: { influxUrl: string; redisUrl: string }, nodes: 1 | 2, clustered: boolean, run: number, settings: Record<string, string> = {}): Promise<number> {
  const db = `bench_failover_${clustered ? nodes : 'one'}_${run}_${Date.now().toString(36)}`;
  const cluster = await prepareFailoverCluster({ nodes, sensors: SENSORS, ...env, influxDb: db, adminToken: ADMIN_TOKEN, clustered });
  try {
    const started = await cluster.startAll(Array.from({ length: nodes }, () => settings));
    const ids = Array.from({ length: SENSORS }, (_, i) => `fo-s${i}`);
    const clients = await Promise.all(ids.map((id, i) => connect(started[i % nodes]!.process.mqttPort, id, cluster.secrets.get(id)!)));
    const total = SENSORS * READINGS_EACH;
    const base = Date.now() - 3_600_000;
    const t0 = performance.now();
    await Promise.all(clients.map((c, i) => pump(c, ids[i]!, base + i * READINGS_EACH)));
    while ((await countStored(env.influxUrl, db)) < total) {
      if (performance.now() - t0 > 120_000) throw new Error(`${db}: not every reading stored in 120 s`);
      await sleep(50);
    }
    const s = (performance.now() - t0) / 1000;
    for (const c of clients) c.end(true);
    return total / s;
  } finally {
    await cluster.cleanup();
  }
}

/** How many community leases the node holds (gs_cluster_owned_communities). */
async function ownedBy(node: FailoverNode): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.process.httpPort}/metrics`)).text();
  return Number(/^gs_cluster_owned_communities (\d+)$/m.exec(text)?.[1] ?? 0);
}

/** Points of a dead node's copies the node wrote (gs_cluster_ack_recovered_points_total). */
async function recoveredBy(node: FailoverNode): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.process.httpPort}/metrics`)).text();
  return Number(/^gs_cluster_ack_recovered_points_total (\d+)$/m.exec(text)?.[1] ?? 0);
}

/**
 * ms from the kill until the survivor has written the killed node's copies of acknowledged
 * points and deleted them (its registration gone from `gs:acked:nodes`); undefined when the
 * copies are off (GS_CLUSTER_ACK_REPLICA=off).
 */
async function copiesWrittenMs(redis: Redis, before: readonly string[], killedAt: number): Promise<number | undefined> {
  if (before.length < 2) return undefined;
  for (;;) {
    const now = await redis.smembers(ACKED_NODES);
    if (before.some((n) => !now.includes(n))) return Date.now() - killedAt;
    if (Date.now() > killedAt + 60_000) throw new Error('the killed node\'s copies were not written in 60 s');
    await sleep(20);
  }
}

/**
 * kill -9 of one of two nodes: ms until its devices are all connected to, and all
 * acknowledged by, the survivor, and until the survivor holds every community's lease.
 */
async function failover(env: { influxUrl: string; redisUrl: string }, run: number): Promise<{ reconnectedMs: number; publishingMs: number; communitiesMs: number; copiesMs?: number; copiedPoints?: number }> {
  const cluster = await prepareFailoverCluster({ nodes: 2, sensors: SENSORS, ...env, influxDb: `bench_failover_kill_${run}`, adminToken: ADMIN_TOKEN });
  const sensors: Array<ReturnType<typeof startStreamingSensor>> = [];
  const redis = new Redis(env.redisUrl);
  try {
    const [killed, survivor] = (await cluster.startAll()) as [FailoverNode, FailoverNode];
    const address = (n: FailoverNode) => ({ host: '127.0.0.1', port: n.process.mqttPort });
    for (let i = 0; i < SENSORS; i++) {
      const id = `fo-s${i}`;
      sensors.push(startStreamingSensor({ id, secret: cluster.secrets.get(id)!, servers: (i % 2 === 0 ? [killed, survivor] : [survivor, killed]).map(address), intervalMs: STREAM_MS }));
    }
    const moving = sensors.filter((_, i) => i % 2 === 0);
    const deadline = Date.now() + 60_000;
    while (!sensors.every((s) => s.acked.length >= 5)) {
      if (Date.now() > deadline) throw new Error('the devices did not start streaming in 60 s');
      await sleep(50);
    }
    while (!((await ownedBy(killed)) > 0 && (await ownedBy(survivor)) > 0)) {
      if (Date.now() > deadline) throw new Error('the communities were not split between the nodes in 60 s');
      await sleep(200);
    }
    const communities = (await ownedBy(killed)) + (await ownedBy(survivor));
    await sleep(1_000);
    const registered = await redis.smembers(ACKED_NODES);
    const killedAt = Date.now(); // before the signal: devices may be on the survivor before the exit is reported
    await killed.kill();
    const copies = copiesWrittenMs(redis, registered, killedAt);
    copies.catch(() => undefined); // awaited below; a run that fails before must not leave it unhandled
    const onSurvivor = (s: (typeof sensors)[number]) => s.acked.find((a) => a.at > killedAt && a.port === survivor.process.mqttPort)?.at;
    const connectedAt = (s: (typeof sensors)[number]) => s.connects.find((c) => c.at > killedAt && c.port === survivor.process.mqttPort)?.at;
    while (!moving.every((s) => onSurvivor(s) !== undefined)) {
      if (Date.now() > killedAt + 60_000) throw new Error('the killed node\'s devices did not move in 60 s');
      await sleep(20);
    }
    const reconnectedMs = Math.max(...moving.map((s) => connectedAt(s)! - killedAt));
    const publishingMs = Math.max(...moving.map((s) => onSurvivor(s)! - killedAt));
    while ((await ownedBy(survivor)) < communities) {
      if (Date.now() > killedAt + 60_000) throw new Error('the survivor did not own every community in 60 s');
      await sleep(100);
    }
    const communitiesMs = Date.now() - killedAt;
    const copiesMs = await copies;
    return { reconnectedMs, publishingMs, communitiesMs, ...(copiesMs === undefined ? {} : { copiesMs, copiedPoints: await recoveredBy(survivor) }) };
  } finally {
    redis.disconnect();
    for (const s of sensors) await s.end();
    await cluster.cleanup();
  }
}

/** One run of every figure; `log` is told each as it comes. */
export async function runFailoverOnce(env: { influxUrl: string; redisUrl: string }, run: number, log: (line: string) => void = () => undefined): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const add = (name: string, value: number) => { out[name] = value; log(`  ${name} ${value.toFixed(0)}`); };
  add('failover_stored_per_s_one_process', await storedPerS(env, 1, false, run));
  add('failover_stored_per_s_one_clustered_node', await storedPerS(env, 1, true, run));
  add('failover_stored_per_s_two_nodes', await storedPerS(env, 2, true, run));
  const f = await failover(env, run);
  add('failover_all_reconnected_ms', f.reconnectedMs);
  add('failover_all_publishing_ms', f.publishingMs);
  add('failover_communities_owned_ms', f.communitiesMs);
  if (f.copiesMs !== undefined) add('failover_acked_copies_written_ms', f.copiesMs);
  if (f.copiedPoints !== undefined) add('failover_acked_copies_written_points', f.copiedPoints);
  return out;
}

/**
 * `-- --replica-ab N`: the stored rate of one and of two clustered nodes with the copies of
 * acknowledged points in Redis on and off (GS_CLUSTER_ACK_REPLICA), N pairs, each pair back to
 * back, so that the machine's load (shared with other work) weighs on both alike.
 */
async function replicaAb(env: { influxUrl: string; redisUrl: string }, pairs: number): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (let run = 0; run < pairs; run++) {
    for (const nodes of [1, 2] as const) {
      for (const mode of run % 2 === 0 ? ['redis', 'off'] : ['off', 'redis']) {
        const name = `stored_per_s_${nodes === 1 ? 'one_clustered_node' : 'two_nodes'}_replica_${mode}`;
        const value = await storedPerS(env, nodes, true, run, { GS_CLUSTER_ACK_REPLICA: mode });
        process.stderr.write(`  ${name} ${value.toFixed(0)}\n`);
        (out[name] ??= []).push(value);
      }
    }
  }
  return out;
}

/** A throwaway redis-server for the runs; stopped and removed by `stop`. */
export async function startBenchRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'gs-bench-redis-'));
  const redis = await startRedisServer({ dir, port: await freePort() });
  return { url: redis.url, async stop() { await redis.stop(); rmSync(dir, { recursive: true, force: true }); } };
}

async function main(): Promise<void> {
  const influxDir = mkdtempSync(join(tmpdir(), 'gs-bench-influxd-'));
  const influxd = await startInfluxd({ dir: influxDir, port: await freePort() });
  const redis = await startBenchRedis();
  const results: Record<string, number[]> = {};
  try {
    const ab = option('--replica-ab');
    if (ab !== undefined) Object.assign(results, await replicaAb({ influxUrl: influxd.url, redisUrl: redis.url }, ab));
    for (let run = 0; ab === undefined && run < RUNS; run++) {
      for (const [name, value] of Object.entries(await runFailoverOnce({ influxUrl: influxd.url, redisUrl: redis.url }, run, (line) => process.stderr.write(`${line}\n`)))) (results[name] ??= []).push(value);
    }
  } finally {
    await redis.stop();
    await influxd.stop();
    rmSync(influxDir, { recursive: true, force: true });
  }
  process.stdout.write(`${SENSORS} devices, ${READINGS_EACH} readings each (${INFLIGHT} in flight) for the stored rates; ${RUNS} runs\n`);
  for (const [name, values] of Object.entries(results)) {
    process.stdout.write(`${name.padEnd(42)} median ${median(values).toFixed(0).padStart(7)}   runs ${values.map((v) => v.toFixed(0)).join(', ')}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(() => process.exit(0), (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
