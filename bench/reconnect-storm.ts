import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { openDb } from '../registry/db.ts';
import { generateSecret, loadCredentialHasher } from '../registry/secrets.ts';
import { freePort } from '../influx/influxd-process.ts';

/**
 * The reconnect-storm figure: `devices` devices, already in the registry, connect at once to
 * a freshly started app (its own process, started as `npm start` starts it); how long until
 * every one has its CONNACK, the app's peak RSS, and its memory per connected device once
 * idle. The generator runs on the same machine, spread over `generators` processes and
 * `sources` loopback source addresses (devices come from many addresses; the app's per-IP
 * connect budget stays at its default).
 *
 * File descriptors: the app holds one socket per device, each generator process one per
 * device of its share, so the app alone meets `ulimit -n` (20,000 here): N stays under it.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface StormOptions {
  devices: number;
  influxUrl: string;
  generators?: number;
  sources?: number;
  /** Handshakes each generator keeps in flight; 0 = every connection opened at once. */
  window?: number;
  settleMs?: number;
  log?: (line: string) => void;
}

export interface StormResult {
  devices: number;
  connected: number;
  refused: number;
  failed: number;
  errors: Record<string, number>;
  /** From the go signal to the last CONNACK. */
  allConnectedMs: number;
  appOpenConnections: number;
  rssBeforeMb: number;
  peakRssMb: number;
  idleRssMb: number;
  idleKbPerDevice: number;
  appFds: number;
  /** App CPU (user + system) from the go signal to all connected, per device: what the storm cost it, load-independent. */
  appCpuMsPerDevice: number;
  /** 1-minute load average when the storm began (2 cores: above 2, other work shared them). */
  loadAverage: number;
  fdLimit: string;
  generators: number;
  sources: number;
  window: number;
}

/** A registry of `n` devices with keyed hashes, as an inventory import leaves it; their secrets in a CSV for the generators. */
function seedRegistry(dataDir: string, n: number): string {
  const db = openDb(join(dataDir, 'greenspace.db'));
  try {
    const hasher = loadCredentialHasher(dataDir);
    db.prepare('INSERT INTO districts (id, name) VALUES (?, ?)').run('d1', 'd1');
    db.prepare('INSERT INTO communities (id, district_id, name) VALUES (?, ?, ?)').run('c1', 'd1', 'c1');
    db.prepare('INSERT INTO zones (id, community_id, name, plant, mode) VALUES (?, ?, ?, ?, ?)').run('z1', 'c1', 'z1', 'lawn', 'automatic');
    const insert = db.prepare("INSERT INTO devices (id, kind, secret_hash, community_id, zone_id, report_interval_s, created_at) VALUES (?, 'soil', ?, 'c1', 'z1', 900, ?)");
    const lines: string[] = [];
    const at = new Date().toISOString();
    db.transaction(() => {
      for (let i = 0; i < n; i++) {
        const id = `storm-${i}`;
        const secret = generateSecret();
        insert.run(id, hasher.hash(secret), at);
        lines.push(`${id},${secret}`);
      }
    })();
    const path = join(dataDir, 'storm-credentials.csv');
    writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600 });
    return path;
  } finally {
    db.close();
  }
}

/** VmRSS and VmHWM (peak) of a process, in MB, from /proc. */
function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** CPU time (user + system) a process has used, in ms, from /proc (USER_HZ 100). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function startAppProcess(dataDir: string, influxUrl: string): Promise<{ child: ChildProcess; mqttPort: number; httpPort: number; exited: Promise<void> }> {
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [...(process.env.GS_STORM_APP_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--max-semi-space-size=64', '--require', join(ROOT, 'config/threadpool-preload.cjs'), '--import', 'tsx', join(ROOT, 'main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env, GS_MQTT_HOST: '127.0.0.1', GS_MQTT_PORT: String(mqttPort), GS_HTTP_HOST: '127.0.0.1', GS_HTTP_PORT: String(httpPort),
      GS_INFLUX_URL: influxUrl, GS_INFLUX_DB: `storm_${Date.now().toString(36)}`, GS_MANAGED_INFLUXD: 'never', GS_DATA_DIR: dataDir,
      GS_ADMIN_TOKEN: 'storm-admin-token-0123456789', GS_LOG_LEVEL: 'warn', GS_LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the app exited ${child.exitCode} before it was ready`);
    const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then((r) => r.ok, () => false);
    if (ready) return { child, mqttPort, httpPort, exited };
    if (Date.now() > deadline) throw new Error('the app was not ready within 60 s');
    await sleep(100);
  }
}

interface Generator { child: ChildProcess; next: () => Promise<string> }

function startGenerator(job: Record<string, unknown>): Generator {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/storm-worker.ts')], {
    cwd: ROOT, env: { ...process.env, GS_STORM_JOB: JSON.stringify(job) }, stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const queued: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => (waiting.shift() ?? ((l: string) => queued.push(l)))(line));
  child.once('exit', (code) => { for (const w of waiting.splice(0)) w(`exit ${code}`); });
  return { child, next: () => new Promise((resolve) => (queued.length > 0 ? resolve(queued.shift()!) : waiting.push(resolve))) };
}

/** Open connections the app reports (gs_mqtt_open_connections on /metrics). */
async function openConnections(httpPort: number): Promise<number> {
  const body = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return Number(/^gs_mqtt_open_connections (\S+)$/m.exec(body)?.[1] ?? Number.NaN);
}

export async function runReconnectStorm(options: StormOptions): Promise<StormResult> {
  const log = options.log ?? (() => undefined);
  const generators = Math.max(1, Math.min(options.generators ?? 2, options.devices));
  const sources = Math.max(1, options.sources ?? 10);
  const window = options.window ?? 0;
  const dataDir = mkdtempSync(join(tmpdir(), 'gs-storm-'));
  const credentials = seedRegistry(dataDir, options.devices);
  const app = await startAppProcess(dataDir, options.influxUrl);
  const workers: Generator[] = [];
  try {
    const per = Math.ceil(options.devices / generators);
    for (let g = 0; g < generators; g++) {
      // Each generator its own loopback addresses (127.0.0.0/8 is all local on Linux).
      const own = Array.from({ length: sources }, (_, s) => `127.0.${1 + g}.${2 + s}`);
      workers.push(startGenerator({ host: '127.0.0.1', port: app.mqttPort, credentials, from: g * per, to: Math.min(options.devices, (g + 1) * per), sources: own, window, timeoutMs: 120_000 }));
    }
    for (const w of workers) if ((await w.next()) !== 'ready') throw new Error('a storm generator did not start');
    await sleep(options.settleMs ?? 2_000);
    const before = memoryOf(app.child.pid!);
    const cpuBefore = cpuMsOf(app.child.pid!);
    const loadAverage = loadavg()[0] ?? 0;
    const goAt = Date.now();
    for (const w of workers) w.child.stdin!.write(`go ${goAt}\n`);
    const outcomes = (await Promise.all(workers.map((w) => w.next()))).map((line) => JSON.parse(line) as { connected: number; refused: number; failed: number; lastAt: number; errors: Record<string, number>; tcpMs: unknown; connackMs: unknown });
    const lastAt = Math.max(...outcomes.map((o) => o.lastAt));
    const stormCpuMs = cpuMsOf(app.child.pid!) - cpuBefore;
    const sum = (k: 'connected' | 'refused' | 'failed'): number => outcomes.reduce((n, o) => n + o[k], 0);
    const errors: Record<string, number> = {};
    for (const o of outcomes) for (const [k, v] of Object.entries(o.errors)) errors[k] = (errors[k] ?? 0) + v;
    log(`  reconnect storm: ${sum('connected')} of ${options.devices} connected in ${lastAt - goAt} ms (per generator, TCP connect and CONNECT → CONNACK ms: ${outcomes.map((o) => JSON.stringify({ tcp: o.tcpMs, connack: o.connackMs })).join(' ')}); settling`);
    await sleep(options.settleMs ?? 5_000);
    const idle = memoryOf(app.child.pid!);
    const result: StormResult = {
      devices: options.devices,
      connected: sum('connected'), refused: sum('refused'), failed: sum('failed'), errors,
      allConnectedMs: lastAt - goAt,
      appOpenConnections: await openConnections(app.httpPort),
      rssBeforeMb: before.rssMb,
      peakRssMb: idle.peakMb,
      idleRssMb: idle.rssMb,
      idleKbPerDevice: ((idle.rssMb - before.rssMb) * 1024) / options.devices,
      appCpuMsPerDevice: stormCpuMs / options.devices,
      loadAverage,
      appFds: readdirSync(`/proc/${app.child.pid}/fd`).length,
      fdLimit: /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${app.child.pid}/limits`, 'utf8'))?.slice(1, 3).join('/') ?? '?',
      generators, sources, window,
    };
    return result;
  } finally {
    for (const w of workers) {
      w.child.stdin?.write('end\n');
      w.child.stdin?.end();
    }
    await Promise.all(workers.map((w) => (w.child.exitCode === null ? new Promise((resolve) => w.child.once('exit', resolve)) : undefined)));
    app.child.kill('SIGTERM');
    await Promise.race([app.exited, sleep(30_000).then(() => app.child.kill('SIGKILL'))]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
