import { Command, Option } from 'commander';
import { runCommand, type RunFlags } from './cli-run.ts';
import { readCredentials, registerFleet, writeCredentials } from './fleet/provision.ts';
import type { SimDevice } from './fleet/spec.ts';
import { runLoad } from './load.ts';
import { CODECS } from './lorawan/codec.ts';

const program = new Command()
  .name('sim')
  .description('Simulated city of soil, tilt and valve devices that behave like real firmware and real soil.');

program
  .command('run', { isDefault: true })
  .description('run a fleet (from a file or generated) for a simulated duration, optionally under a scenario')
  .option('--fleet <file>', 'fleet file (YAML or JSON); otherwise one is generated')
  .option('--communities <n>', 'generated fleet: communities', '3')
  .option('--zones <n>', 'generated fleet: zones per community', '4')
  .option('--sensors <n>', 'generated fleet: soil sensors per zone', '2')
  .option('--automatic-share <share>', 'generated fleet: share of zones with a valve', '0.5')
  .option('--districts <n>', 'generated fleet: districts', '2')
  .option('--broker <url>', 'MQTT broker URL', 'mqtt://127.0.0.1:1883')
  .option('--api <url>', 'register the fleet through this API (e.g. http://127.0.0.1:3000)')
  .option('--token <token>', 'admin bearer token for --api (default: $GS_ADMIN_TOKEN)')
  .option('--credentials <file>', 'device secrets: {"id": "secret"} or [{id, secret}]')
  .option('--save-credentials <file>', 'write the secrets obtained by registration here (0600)')
  .addOption(new Option('--mode <mode>', 'native MQTT per device, or a LoRaWAN network server').choices(['native', 'chirpstack', 'tts']).default('native'))
  .option('--ns-username <user>', 'LoRaWAN: service-account username')
  .option('--ns-password <password>', 'LoRaWAN: service-account password')
  .option('--application <id>', 'LoRaWAN: application id (ChirpStack: a UUID)', '5a0f6c1e-0000-4000-a000-67726e737063')
  .option('--tenant <id>', 'LoRaWAN: tenant (ChirpStack tenant UUID, TTS tenant)', 'ttn')
  .addOption(new Option('--codec <codec>', 'LoRaWAN: decoded payload field names').choices([...CODECS]).default('native'))
  .option('--accel <factor>', 'time acceleration (1440: a simulated day per minute)', '1440')
  .option('--duration <d>', 'simulated duration, e.g. 1d, 7d, 6h (default: the scenario\'s, else 1d)')
  .option('--start <when>', 'sim start: backfill (ends at now, so no reading is in the future), now, or ISO 8601', 'backfill')
  .option('--scenario <name>', 'drought-week, rainstorm, vandalism-night, gateway-outage, broker-restart')
  .option('--scenarios <file>', 'scenarios file (default: firmware-sim/scenarios/scenarios.yaml)')
  .option('--seed <n>', 'PRNG seed: same seed, same city, same run', '1')
  .option('--misbehaving <share>', 'share of devices that misbehave (malformed, stuck, clock skew, silent)')
  .option('--backoff-base <s>', 'reconnect: first backoff window, seconds (full jitter, doubling)', '2')
  .option('--backoff-cap <s>', 'reconnect: largest backoff window, seconds', '120')
  .option('--log-level <level>', 'pino level', 'warn')
  .option('--no-progress', 'no progress bar')
  .option('--json', 'print the summary as JSON', false)
  .action(async (flags: RunFlags) => {
    await runCommand(flags);
  });

program
  .command('load')
  .description('benchmark load: N device connections publishing at a target or maximum rate')
  .option('--broker <url>', 'MQTT broker URL', 'mqtt://127.0.0.1:1883')
  .option('--credentials <file>', 'device secrets to connect with')
  .option('--api <url>', 'register load devices through this API')
  .option('--token <token>', 'admin bearer token for --api (default: $GS_ADMIN_TOKEN)')
  .option('--save-credentials <file>', 'write the registered secrets here')
  .option('--connections <n>', 'connections (devices)', '100')
  .option('--rate <msgs/s>', 'target messages per second over all connections (0: maximum)', '0')
  .option('--duration <s>', 'seconds', '10')
  .option('--inflight <n>', 'QoS 1 publishes outstanding per connection', '16')
  .option('--batch <n>', 'readings per message', '1')
  .addOption(new Option('--qos <qos>', 'QoS').choices(['0', '1']).default('1'))
  .action(async (f: Record<string, string>) => {
    const n = Number(f.connections);
    let creds = f.credentials ? readCredentials(f.credentials) : new Map<string, string>();
    const token = f.token ?? process.env.GS_ADMIN_TOKEN;
    if (creds.size === 0 && f.api && token) {
      const devices = Array.from({ length: n }, (_, i): SimDevice => {
        const id = `load-${String(i + 1).padStart(5, '0')}`;
        return { id, kind: 'soil', devEui: '', reportIntervalS: 60, communityId: 'load', districtId: 'load', registration: { id, kind: 'soil', reportIntervalS: 60, place: { district: 'load', community: 'load', zone: 'load-zone' } } };
      });
      const r = await registerFleet({ apiUrl: f.api, token, devices, concurrency: 16 });
      if (r.conflicts.length > 0) throw new Error(`${r.conflicts.length} load devices already registered: pass their --credentials file`);
      creds = r.credentials;
      if (f.saveCredentials) writeCredentials(f.saveCredentials, creds);
    }
    if (creds.size === 0) throw new Error('load needs device secrets: --credentials FILE, or --api URL with --token');
    const devices = [...creds].slice(0, n).map(([id, secret]) => ({ id, secret }));
    const report = await runLoad({
      url: f.broker!, devices, rate: Number(f.rate), durationMs: Number(f.duration) * 1000,
      inflight: Number(f.inflight), batchSize: Number(f.batch), qos: Number(f.qos) as 0 | 1,
    });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`sim: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
