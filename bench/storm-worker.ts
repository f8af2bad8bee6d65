import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import mqttPacket from 'mqtt-packet';

/**
 * One process of the reconnect-storm generator (bench/reconnect-storm.ts): its share of the
 * devices, each a bare TCP socket that sends one CONNECT and reads one CONNACK, nothing else
 * (a device's side of a reconnect costs no more in the field). Sockets are spread over
 * several loopback source addresses, as a city's devices come from many.
 *
 * Protocol with the parent: prints `ready` once the credentials are read; on a `go <epochMs>`
 * line opens every connection at once (at most `window` handshakes in flight when set);
 * prints one JSON line when every CONNECT was answered or failed; holds the connections
 * open until an `end` line, then exits.
 */
interface Job { host: string; port: number; credentials: string; from: number; to: number; sources: string[]; window: number; timeoutMs: number }
const job = JSON.parse(process.env.GS_STORM_JOB ?? '{}') as Job;

const devices = readFileSync(job.credentials, 'utf8').split('\n').slice(job.from, job.to).map((line) => {
  const [id = '', secret = ''] = line.split(',');
  return { id, secret };
});
const sockets: Socket[] = [];
const outcome = { connected: 0, refused: 0, failed: 0, firstAt: 0, lastAt: 0, errors: {} as Record<string, number>, tcpMs: [] as number[], connackMs: [] as number[] };

function open(i: number, done: () => void): void {
  const device = devices[i]!;
  let settled = false;
  const settle = (how: 'connected' | 'refused' | 'failed', why?: string): void => {
    if (settled) return;
    settled = true;
    outcome[how] += 1;
    if (why) outcome.errors[why] = (outcome.errors[why] ?? 0) + 1;
    if (how === 'connected') {
      const at = Date.now();
      outcome.tcpMs.push(tcpAt - t0);
      outcome.connackMs.push(at - tcpAt);
      outcome.firstAt ||= at;
      outcome.lastAt = Math.max(outcome.lastAt, at);
    }
    done();
  };
  const t0 = Date.now();
  let tcpAt = 0;
  const socket = connect({ host: job.host, port: job.port, localAddress: job.sources[i % job.sources.length] });
  sockets.push(socket);
  socket.setNoDelay(true);
  let head = Buffer.alloc(0);
  socket.on('connect', () => {
    tcpAt = Date.now();
    // keepalive 0: the broker holds an idle connection without pings, so an idle fleet costs
    // the app only its sockets and sessions (what `idle memory per device` measures).
    socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: device.id, username: device.id, password: Buffer.from(device.secret), clean: true, keepalive: 0 }));
  });
  socket.on('data', (chunk: Buffer) => {
    if (settled) return;
    head = Buffer.concat([head, chunk]);
    if (head.length < 4) return;
    // CONNACK: 0x20, remaining length 2, session present, return code.
    if (head[0] === 0x20 && head[3] === 0) settle('connected');
    else settle('refused', `connack ${head[3]}`);
  });
  socket.on('error', (error: NodeJS.ErrnoException) => settle('failed', error.code ?? error.message));
  socket.on('close', () => settle('failed', 'closed'));
  socket.setTimeout(job.timeoutMs, () => settle('failed', 'timeout'));
}

function storm(): Promise<void> {
  return new Promise((resolve) => {
    let next = 0;
    let answered = 0;
    const window = job.window > 0 ? job.window : devices.length;
    const onAnswer = (): void => {
      answered += 1;
      if (answered === devices.length) resolve();
      else if (next < devices.length) open(next++, onAnswer);
    };
    if (devices.length === 0) resolve();
    while (next < Math.min(window, devices.length)) open(next++, onAnswer);
  });
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.startsWith('go')) {
    void storm().then(() => {
      for (const s of sockets) s.setTimeout(0);
      const pct = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return { p50: s[Math.floor(s.length / 2)] ?? 0, p99: s[Math.floor(s.length * 0.99)] ?? 0, max: s.at(-1) ?? 0 }; };
      process.stdout.write(`${JSON.stringify({ ...outcome, tcpMs: pct(outcome.tcpMs), connackMs: pct(outcome.connackMs) })}\n`);
    });
  } else if (line === 'end') {
    for (const s of sockets) s.destroy();
    process.exit(0);
  }
});
lines.on('close', () => process.exit(0)); // the parent went away
process.stdout.write('ready\n');
