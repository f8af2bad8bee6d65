import cliProgress from 'cli-progress';
import { createLogger } from '../lib/logger.ts';
import { createRandom } from '../lib/random.ts';
import { generateFleet } from './fleet/generate.ts';
import { loadFleetFile } from './fleet/load.ts';
import { readCredentials, registerFleet, writeCredentials } from './fleet/provision.ts';
import { listDevices } from './fleet/spec.ts';
import type { Codec } from './lorawan/codec.ts';
import { applicationName } from './lorawan/envelopes.ts';
import { runSimulation, type RunSummary } from './run.ts';
import { Duration, loadScenarios } from './scenarios/schema.ts';
import { backfillStart } from './sim-clock.ts';
import type { Transport } from './simulation.ts';

/** The `run` command's options as commander hands them over. */
export interface RunFlags {
  fleet?: string;
  communities: string;
  zones: string;
  sensors: string;
  automaticShare: string;
  districts: string;
  broker: string;
  api?: string;
  token?: string;
  credentials?: string;
  saveCredentials?: string;
  mode: 'native' | 'chirpstack' | 'tts';
  nsUsername?: string;
  nsPassword?: string;
  application: string;
  tenant: string;
  codec: Codec;
  accel: string;
  duration?: string;
  start: string;
  scenario?: string;
  scenarios?: string;
  seed: string;
  misbehaving?: string;
  logLevel: string;
  backoffBase: string;
  backoffCap: string;
  progress: boolean;
  json: boolean;
}

const num = (value: string, name: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${name}: expected a number, got "${value}"`);
  return n;
};

export async function runCommand(f: RunFlags, out: NodeJS.WritableStream = process.stdout): Promise<RunSummary> {
  const logger = createLogger(f.logLevel as 'info');
  const seed = num(f.seed, 'seed');
  const fleet = f.fleet
    ? loadFleetFile(f.fleet)
    : generateFleet({
      communities: num(f.communities, 'communities'), zonesPerCommunity: num(f.zones, 'zones'), sensorsPerZone: num(f.sensors, 'sensors'),
      automaticShare: num(f.automaticShare, 'automatic-share'), districts: num(f.districts, 'districts'), settlingShare: 0.1,
    }, createRandom(seed));
  const devices = listDevices(fleet);

  const scenario = f.scenario ? loadScenarios(f.scenarios ?? undefined).scenarios[f.scenario] : undefined;
  if (f.scenario && !scenario) throw new Error(`no scenario "${f.scenario}" (have: ${Object.keys(loadScenarios(f.scenarios ?? undefined).scenarios).join(', ')})`);
  const durationMs = f.duration !== undefined ? Duration.parse(f.duration) : scenario?.duration ?? 86_400_000;
  const accel = num(f.accel, 'accel');
  const startMs = f.start === 'backfill' ? backfillStart(Date.now(), durationMs, accel) : f.start === 'now' ? Date.now() : Date.parse(f.start);
  if (!Number.isFinite(startMs)) throw new Error(`--start: expected backfill, now or an ISO 8601 time, got "${f.start}"`);

  let credentials = new Map<string, string>(f.credentials ? readCredentials(f.credentials) : []);
  const token = f.token ?? process.env.GS_ADMIN_TOKEN;
  if (f.api && token) {
    const todo = devices.filter((d) => !credentials.has(d.id));
    // LoRaWAN modes bind the devices to the simulated network server's application.
    const lorawanApplication = f.mode === 'native' ? undefined : applicationName(f.mode, { application: f.application, tenant: f.tenant });
    const result = await registerFleet({ apiUrl: f.api, token, devices: todo, lorawanApplication });
    credentials = new Map([...credentials, ...result.credentials]);
    if (result.failures.length > 0) throw new Error(`registration failed for ${result.failures.length} devices, e.g. ${JSON.stringify(result.failures[0])}`);
    if (result.conflicts.length > 0 && f.mode === 'native') {
      logger.warn({ count: result.conflicts.length, example: result.conflicts[0] }, 'devices already registered and not in the credentials file: they stay offline');
    }
    if (f.saveCredentials) writeCredentials(f.saveCredentials, credentials);
  } else if (f.mode === 'native' && credentials.size === 0) {
    throw new Error('native mode needs device secrets: --credentials FILE, or --api URL with --token (or GS_ADMIN_TOKEN) to register the fleet');
  }

  const transport: Transport = f.mode === 'native'
    ? { mode: 'native', credentials, backoff: { baseMs: num(f.backoffBase, 'backoff-base') * 1000, capMs: num(f.backoffCap, 'backoff-cap') * 1000 } }
    : { mode: 'lorawan', format: f.mode, codec: f.codec, username: f.nsUsername, password: f.nsPassword, net: { application: f.application, tenant: f.tenant } };

  const bar = f.progress && !f.json
    ? new cliProgress.SingleBar({ format: 'sim {bar} {percentage}% | {simTime} | sent {sent} acked {acked} buffered {buffered} online {connected}', hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(Math.round(durationMs / 60_000), 0, { simTime: new Date(startMs).toISOString(), sent: 0, acked: 0, buffered: 0, connected: 0 });
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  try {
    const summary = await runSimulation({
      fleet, transport, brokerUrl: f.broker, accel, durationMs, startMs, seed, logger, scenario,
      misbehaviourShare: f.misbehaving !== undefined ? num(f.misbehaving, 'misbehaving') : undefined,
      signal: abort.signal,
      onProgress: (p) => bar?.update(Math.round(p.simElapsedMs / 60_000), {
        simTime: new Date(startMs + p.simElapsedMs).toISOString().slice(0, 16), sent: p.stats.sent, acked: p.stats.acked, buffered: p.buffered, connected: p.connected,
      }),
    });
    bar?.stop();
    out.write(f.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
    return summary;
  } finally {
    bar?.stop();
    process.off('SIGINT', onSignal);
  }
}

export function formatSummary(s: RunSummary): string {
  const rows: Array<[string, string | number]> = [
    ['simulated', `${s.simulatedFrom} → ${s.simulatedTo}`],
    ['devices', s.missingCredentials ? `${s.devices} (${s.missingCredentials} without credentials)` : s.devices],
    ['readings generated', s.generated],
    ['sent (incl. resends)', s.sent],
    ['acked by the broker', s.acked],
    ['sent in store-and-forward batches', `${s.batchedReadings} in ${s.batches} batches`],
    ['buffered at the end', s.bufferedAtEnd],
    ['dropped (buffer full)', s.dropped],
    ['silent reports', s.silent],
    ['LoRaWAN uplinks lost', s.uplinksLost],
    ['connects / reconnects / failed attempts', `${s.connects} / ${s.reconnects} / ${s.connectFailures}`],
    ['commands received / obeyed / refused', `${s.commandsReceived} / ${s.commandsObeyed} / ${s.commandsRejected}`],
    ['acks sent', s.acksSent],
    ['scenario events', s.scenarioActions],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `\n${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}
