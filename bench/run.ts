import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Config } from '../config/config.ts';
import { createLogger } from '../lib/logger.ts';
import { startApp } from '../app.ts';
import { createInfluxHttp } from '../influx/http.ts';
import { freePort, startInfluxd } from '../influx/influxd-process.ts';
import { influxTarget } from '../app/influxdb.ts';
import { startCeilingBroker } from './ceiling.ts';
import { benchV2Write } from './v2-write.ts';
import { runReconnectStorm } from './reconnect-storm.ts';
import { runFailoverOnce, startBenchRedis } from './failover.ts';

/**
 * `npm run bench`: readings stored per second end to end (QoS 0 and QoS 1, durable acks,
 * every feature on, zero loss checked by counting in InfluxDB), published as fast as the
 * broker takes them, with raw aedes under the same generator as the ceiling in the same
 * run; p50/p99 publish → stored latency at a steady 5,000 readings/s; the cores each part
 * used. See BENCHMARKS.md for the method.
 * Medians over repeated runs; compared with the figures recorded in BENCHMARKS.md.
 * `-- --runs N` (default 3), `-- --update` writes the medians into BENCHMARKS.md.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 3;
const UPDATE = args.includes('--update');
/** `-- --only stored_qos0` runs one scenario (for profiling with --cpu-prof). */
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const wanted = (name: string): boolean => !ONLY || name.startsWith(ONLY);
/** Only when asked for (`-- --only failover`): it needs redis-server and starts five app processes a run (bench/failover.ts). */
const FAILOVER = ONLY !== undefined && wanted('failover');
const CLIENTS = 10;
const option = (name: string): number | undefined => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : undefined);
/**
 * The reconnect storm (bench/reconnect-storm.ts): `-- --devices N` (default 19,800: the
 * app holds a socket per device, and `ulimit -n` is 20,000 here), `--generators`,
 * `--window`: handshakes each generator keeps in flight (default 500; 0 opens every
 * connection at once). At once, on this shared machine, the CONNECTs behind the first
 * thousands waited past aedes' 10 s CONNECT timeout and were reset (17,397 of 19,800 at
 * load average 17): devices retry on a timeout, a window is that retry without the waste.
 */
const STORM = { devices: option('--devices') ?? 19_800, generators: option('--generators') ?? 2, window: option('--window') ?? 500 };
/**
 * The generator's MQTT client: `raw` (default), a minimal client that leaves the cores to
 * the app, or `mqttjs` (`-- --client mqttjs`), as recorded before 2026-11-26 15:00.
 */
const CLIENT = args.includes('--client') ? args[args.indexOf('--client') + 1] : 'raw';
if (CLIENT !== 'raw' && CLIENT !== 'mqttjs') throw new Error(`--client must be raw or mqttjs, not ${CLIENT}`);

interface WorkerResult { published: number; acked: number; startAt: number; durationMs: number; connectFailures: number; cpuS: number; ackLatencyMs: { p50: number; p99: number } }

/** CPU seconds a process has used (user + system), from /proc: where the two cores went. */
function cpuSecondsOf(pid: number | undefined, task?: number): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(task === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${task}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

function runWorker(job: Record<string, unknown>): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/load-worker.ts')], {
      env: { ...process.env, GS_BENCH_JOB: JSON.stringify({ ...job, client: CLIENT }) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim()) as WorkerResult) : reject(new Error(`load worker exited ${code}`))));
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const waitFor = async (check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
};

/** The bucket a histogram's 99th percentile falls in, as "≤ N ms". */
async function histogramP99(registry: { getSingleMetricAsString(name: string): Promise<string> }, name: string): Promise<string> {
  const buckets = [...(await registry.getSingleMetricAsString(name)).matchAll(/_bucket\{le="([^"]+)"\} (\d+)/g)].map((m) => ({ le: m[1]!, n: Number(m[2]) }));
  const total = buckets.at(-1)?.n ?? 0;
  const at = buckets.find((b) => b.n >= 0.99 * total);
  return total === 0 || !at ? 'n/a' : at.le === '+Inf' ? '> 10 s' : `≤ ${Number(at.le) * 1000} ms`;
}

async function ceiling(qos: 0 | 1, durationMs: number): Promise<number> {
  const broker = await startCeilingBroker();
  const devices = Array.from({ length: CLIENTS }, (_, i) => ({ id: `ceil-${i}`, secret: 'x' }));
  const worker = await runWorker({ url: `mqtt://127.0.0.1:${broker.port}`, devices, qos, durationMs, inflight: 100 });
  const done = await waitFor(() => broker.received() >= worker.published, 60_000);
  const end = Date.now();
  await broker.close();
  if (!done) throw new Error(`ceiling: received ${broker.received()} of ${worker.published}`);
  return worker.published / ((end - worker.startAt) / 1000);
}

/** How each full-app figure is measured; figures recorded under another shape are not compared. */
const viaClient = CLIENT === 'mqttjs' ? '' : ', raw client';
const SHAPES: Record<string, string> = {
  ceiling: `aedes no-op hook, 5 s, 100 in flight${viaClient}`,
  qos0: `qos 0, unbounded, 5 s${viaClient}`, qos1: `qos 1, unbounded, 5 s, 100 in flight${viaClient}`, steady: `qos 1, 5000/s, 10 s${viaClient}`,
};
/** What records from before shapes were kept measured (eea5bdb: the issue's offered rates). */
const LEGACY_SHAPES: Record<string, string> = { qos0: 'qos 0, 60000/s, 3 s', qos1: 'qos 1, 30000/s, 5 s, 100 in flight', steady: 'qos 1, 5000/s, 10 s' };
const shapeOf = (figure: string): string | undefined =>
  figure.startsWith('ceiling') ? 'ceiling' : figure.includes('steady') ? 'steady' : /qos0/.test(figure) ? 'qos0' : /qos1/.test(figure) ? 'qos1' : undefined;

interface FullResult { storedPerS: number; lost: number; unacked: number; rssMb: number; p50Ms?: number; p99Ms?: number; cpu: { mainLoop: number; app: number; generator: number; influxd: number; wallS: number } }

/** The 2.x stand-in (influx/v2-standin.ts) in a child process, over the bench's influxd. */
const V2 = { org: 'bench-org', bucket: 'bench-bucket', token: 'bench-token' } as const;
async function startStandinProcess(upstream: string, buckets: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/standin-process.ts')], {
    env: { ...process.env, GS_BENCH_STANDIN: JSON.stringify({ upstream, org: V2.org, buckets, token: V2.token }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`stand-in exited ${code}`)));
  });
  return { url, stop: () => new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.kill('SIGTERM'); }) };
}

async function full(influxUrl: string, influxdPid: number | undefined, qos: 0 | 1, durationMs: number, rate = 0, settings: Record<string, unknown> = {}): Promise<FullResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gs-bench-'));
  const db = `bench_${Date.now().toString(36)}`;
  let stored = 0;
  const latencies: number[] = [];
  const config = Config.parse({ mqttHost: '127.0.0.1', mqttPort: 0, httpHost: '127.0.0.1', httpPort: 0, influxUrl, influxDb: db, managedInfluxd: 'never', dataDir, adminToken: 'bench-admin-token-0123456789', logLevel: 'warn', ...(process.env.GS_WRITE_FLUSH_MS ? { writeFlushMs: Number(process.env.GS_WRITE_FLUSH_MS) } : {}), // the app's default unless set
    // Ten connections carry the load of thousands of devices: lift the per-device limits.
    mqttPublishRatePerS: 1_000_000, mqttPublishBurst: 1_000_000, ...settings });
  const app = await startApp(config, createLogger('warn'), {
    onStoredTimestamps: (ts, at) => {
      stored += ts.length;
      if (rate > 0 && rate <= 5_000) for (const t of ts) latencies.push(at - t);
    },
  });
  let rss = 0;
  const sampler = setInterval(() => { rss = Math.max(rss, process.memoryUsage().rss); }, 100);
  try {
    const devices = [];
    for (let i = 0; i < CLIENTS; i++) {
      const { secret } = await app.devices.register({ id: `bench-${i}`, kind: 'soil', place: { district: 'd1', community: `c${i % 3}`, zone: `z${i}`, plant: 'lawn' } });
      devices.push({ id: `bench-${i}`, secret });
    }
    const cpu0 = { app: process.cpuUsage(), main: cpuSecondsOf(process.pid, process.pid), influxd: cpuSecondsOf(influxdPid), elu: performance.eventLoopUtilization() };
    const loopDelay = monitorEventLoopDelay({ resolution: 5 }); loopDelay.enable();
    const worker = await runWorker({ url: `mqtt://127.0.0.1:${app.mqttPort}`, devices, qos, rate, durationMs, inflight: 100 });
    // What the app was given: at QoS 0 every publish the client handed to its socket (the
    // generator ends QoS 0 connections cleanly, flushing them), at QoS 1 the acknowledged ones.
    const total = worker.acked;
    const storedWhenGeneratorDone = stored;
    await waitFor(() => stored >= total, 120_000);

    const end = Date.now();
    const appCpu = process.cpuUsage(cpu0.app);
    // Busy time over the measured interval (first publish → all stored), like the CPU figures:
    // `utilization` would also count the idle second the generator spends starting and connecting.
    const elu = Math.min(1, performance.eventLoopUtilization(cpu0.elu).active / (end - worker.startAt));
    loopDelay.disable();
    // How long InfluxDB took to answer the writes (the app's histogram): with our own
    // fdatasync (the PUBACK's latency), the disk's part of publish → stored.
    const writeP99 = await histogramP99(app.metrics.registry, 'gs_influx_write_duration_seconds');
    process.stderr.write(`  qos ${qos}${rate ? ` at ${rate}/s` : ', as fast as the broker takes them'}: ${qos ? 'acknowledged' : 'written'} ${total} of ${worker.published} published in ${Math.round(worker.durationMs)} ms${qos ? ` (PUBACK p50 ${worker.ackLatencyMs.p50} ms, p99 ${worker.ackLatencyMs.p99} ms)` : ''}, InfluxDB write p99 ${writeP99}, ${storedWhenGeneratorDone} stored when the generator finished, all after ${end - worker.startAt} ms; app event-loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms; event loop busy ${((elu * (end - worker.startAt) * 1000) / total).toFixed(1)} µs, app CPU ${(((appCpu.user + appCpu.system)) / total).toFixed(1)} µs per reading, main thread CPU ${((cpuSecondsOf(process.pid, process.pid) - cpu0.main) * 1e6 / total).toFixed(1)} µs\n`);
    const cpu = { mainLoop: elu, app: (appCpu.user + appCpu.system) / 1e6, generator: worker.cpuS, influxd: cpuSecondsOf(influxdPid) - cpu0.influxd, wallS: (end - worker.startAt) / 1000 };
    const influx = createInfluxHttp(influxTarget(config)); // v2: the token, and the DBRP database the app mapped
    const [series = []] = await influx.query('SELECT count(moisture) FROM soil');
    const counted = Number(series[0]?.values[0]?.[1] ?? 0);
    latencies.sort((a, b) => a - b);
    return {
      storedPerS: total / ((end - worker.startAt) / 1000),
      lost: total - counted,
      // Publishes never acknowledged (QoS 1) or never written (QoS 0), errors included: not in
      // `total`, so not in `lost` either, and they must not vanish from the report.
      unacked: worker.published - worker.acked,
      rssMb: rss / 1024 / 1024,
      cpu,
      ...(latencies.length > 0 ? { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) } : {}),
    };
  } finally {
    clearInterval(sampler);
    await app.stop({ drainMs: 5_000 });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const influxDir = mkdtempSync(join(tmpdir(), 'gs-bench-influxd-'));
  const influxd = await startInfluxd({ dir: influxDir, port: await freePort() });
  const redis = FAILOVER ? await startBenchRedis() : undefined;
  const rows: Record<string, number[]> = {};
  const add = (k: string, v: number | undefined) => { if (v !== undefined) (rows[k] ??= []).push(v); };
  // Cores used over the measured interval by each part (1.0 = one core busy throughout).
  const addCpu = (name: string, cpu: FullResult['cpu']) => {
    add(`cores_${name}_app`, cpu.app / cpu.wallS); add(`cores_${name}_app_main_loop`, cpu.mainLoop); add(`cores_${name}_generator`, cpu.generator / cpu.wallS); add(`cores_${name}_influxd`, cpu.influxd / cpu.wallS);
  };
  try {
    for (let run = 1; run <= RUNS; run++) {
      process.stderr.write(`run ${run}/${RUNS}\n`);
      if (wanted('ceiling_qos0')) add('ceiling_qos0_msgs_s', await ceiling(0, 5_000));
      if (wanted('ceiling_qos1')) add('ceiling_qos1_msgs_s', await ceiling(1, 5_000));
      if (wanted('stored_qos0')) {
        // As fast as the broker takes them (no offered rate: the intake gate pushes back) for
        // 5 s; stored/s = all of it counted in InfluxDB over the time from the first publish
        // to the last point stored. Not the shape recorded before (60,000/s offered for 3 s):
        // see SHAPES, no ratio is printed against a figure measured another way.
        const q0 = await full(influxd.url, influxd.pid, 0, 5_000, 0);
        add('stored_qos0_readings_s', q0.storedPerS); addCpu('qos0', q0.cpu); add('lost_qos0', q0.lost); add('unacked_qos0', q0.unacked); add('rss_qos0_mb', q0.rssMb);
      }
      if (wanted('stored_qos1')) {
        const q1 = await full(influxd.url, influxd.pid, 1, 5_000, 0);
        add('stored_qos1_readings_s', q1.storedPerS); addCpu('qos1', q1.cpu); add('lost_qos1', q1.lost); add('unacked_qos1', q1.unacked); add('rss_qos1_mb', q1.rssMb);
      }
      if (wanted('stored_v2_qos1') || wanted('v2_write')) {
        // GS_INFLUX_API=v2 against the 2.x stand-in over the same influxd: what the native API costs.
        const standin = await startStandinProcess(influxd.url, [`${V2.bucket}-${run}`, 'bench-write']);
        try {
          if (wanted('stored_v2_qos1')) {
            const v2 = await full(standin.url, influxd.pid, 1, 5_000, 0, { influxApi: 'v2', influxOrg: V2.org, influxBucket: `${V2.bucket}-${run}`, influxToken: V2.token });
            add('stored_v2_qos1_readings_s', v2.storedPerS); add('lost_v2_qos1', v2.lost); add('unacked_v2_qos1', v2.unacked);
          }
          if (wanted('v2_write')) {
            for (const [k, v] of Object.entries(await benchV2Write({ url: standin.url, db: 'unused', org: V2.org, bucket: 'bench-write', token: V2.token }, Date.now() - 86_400_000 * 2 + run * 60_000_000))) add(k, v);
          }
        } finally {
          await standin.stop();
        }
      }
      if (wanted('reconnect_storm')) {
        const storm = await runReconnectStorm({ ...STORM, influxUrl: influxd.url, log: (line) => process.stderr.write(`${line}\n`) });
        process.stderr.write(`  reconnect storm: ${storm.connected} of ${storm.devices} devices connected in ${storm.allConnectedMs} ms (refused ${storm.refused}, failed ${storm.failed}${Object.keys(storm.errors).length ? ` ${JSON.stringify(storm.errors)}` : ''}); app: ${storm.appOpenConnections} open connections, ${storm.appFds} fds of its limit ${storm.fdLimit}; RSS ${storm.rssBeforeMb.toFixed(0)} MB before, peak ${storm.peakRssMb.toFixed(0)} MB, idle ${storm.idleRssMb.toFixed(0)} MB = ${storm.idleKbPerDevice.toFixed(1)} kB per device; app CPU ${storm.appCpuMsPerDevice.toFixed(2)} ms per connect; load average ${storm.loadAverage.toFixed(1)} on ${cpus().length} cores; generator: ${storm.generators} processes, ${storm.sources} source addresses each, window ${storm.window || 'all at once'}\n`);
        if (storm.connected !== storm.devices) throw new Error(`reconnect storm: only ${storm.connected} of ${storm.devices} connected`);
        add('reconnect_storm_devices', storm.devices); add('reconnect_storm_all_connected_ms', storm.allConnectedMs); add('reconnect_storm_peak_rss_mb', storm.peakRssMb); add('reconnect_storm_idle_kb_per_device', storm.idleKbPerDevice); add('reconnect_storm_app_cpu_ms_per_device', storm.appCpuMsPerDevice);
      }
      if (redis) {
        for (const [k, v] of Object.entries(await runFailoverOnce({ influxUrl: influxd.url, redisUrl: redis.url }, run, (line) => process.stderr.write(`${line}\n`)))) add(k, v);
      }
      if (wanted('steady')) {
        const steady = await full(influxd.url, influxd.pid, 1, 10_000, 5_000);
        add('steady5k_p50_ms', steady.p50Ms); add('steady5k_p99_ms', steady.p99Ms); add('lost_steady', steady.lost); add('unacked_steady', steady.unacked);
      }
    }
  } finally {
    await redis?.stop();
    await influxd.stop();
    rmSync(influxDir, { recursive: true, force: true });
  }
  const medians = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, Math.round(median(v) * (k.startsWith('cores_') ? 100 : 10)) / (k.startsWith('cores_') ? 100 : 10)]));
  if (medians.stored_qos0_readings_s && medians.ceiling_qos0_msgs_s) medians.stored_qos0_vs_ceiling = Math.round((medians.stored_qos0_readings_s / medians.ceiling_qos0_msgs_s) * 100) / 100;
  if (medians.stored_qos1_readings_s && medians.ceiling_qos1_msgs_s) medians.stored_qos1_vs_ceiling = Math.round((medians.stored_qos1_readings_s / medians.ceiling_qos1_msgs_s) * 100) / 100;

  const benchFile = join(ROOT, 'BENCHMARKS.md');
  const previous = existsSync(benchFile) ? /<!-- bench:json\n([\s\S]*?)\n-->/.exec(readFileSync(benchFile, 'utf8'))?.[1] : undefined;
  const recorded = previous ? (JSON.parse(previous) as { medians: Record<string, number>; shapes?: Record<string, string> }) : undefined;
  // A recorded figure is compared only when it was measured the same way (same offered rate
  // and duration): a ratio against another workload says nothing about the code.
  const before = Object.fromEntries(Object.entries(recorded?.medians ?? {}).filter(([k]) => {
    const shape = shapeOf(k);
    return shape === undefined || (recorded?.shapes ?? LEGACY_SHAPES)[shape] === SHAPES[shape];
  }));
  process.stdout.write(`\nmedians of ${RUNS} runs (${cpus().length} cores, ${cpus()[0]?.model ?? '?'})\n`);
  process.stdout.write(`${'figure'.padEnd(28)}${'now'.padStart(12)}${'recorded'.padStart(12)}${'ratio'.padStart(8)}   all runs\n`);
  for (const [k, v] of Object.entries(medians)) {
    const b = before[k];
    const ratio = b ? (v / b).toFixed(2) : '';
    process.stdout.write(`${k.padEnd(28)}${String(v).padStart(12)}${String(b ?? '').padStart(12)}${ratio.padStart(8)}   ${(rows[k] ?? []).map((x) => (k.startsWith('cores_') || k.endsWith('_per_device') ? x.toFixed(2) : Math.round(x))).join(' ')}\n`);
  }
  mkdirSync(join(ROOT, 'bench/out'), { recursive: true });
  const record = { date: new Date().toISOString(), runs: RUNS, cores: cpus().length, shapes: SHAPES, medians, all: rows };
  writeFileSync(join(ROOT, 'bench/out/latest.json'), `${JSON.stringify(record, null, 2)}\n`);
  if (UPDATE) {
    const text = existsSync(benchFile) ? readFileSync(benchFile, 'utf8') : '';
    const block = `<!-- bench:json\n${JSON.stringify(record)}\n-->`;
    writeFileSync(benchFile, /<!-- bench:json\n[\s\S]*?\n-->/.test(text) ? text.replace(/<!-- bench:json\n[\s\S]*?\n-->/, block) : `${text}\n${block}\n`);
    process.stdout.write('BENCHMARKS.md updated\n');
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
