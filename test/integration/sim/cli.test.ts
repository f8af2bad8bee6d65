import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { startMosquitto, type Mosquitto } from './mosquitto.ts';
import { runToExit } from '../../helpers/run.ts';

const sim = (args: string[]) => runToExit(process.execPath, ['--import', 'tsx', 'firmware-sim/cli.ts', ...args]);

describe('npm run sim', () => {
  let broker: Mosquitto;
  beforeAll(async () => { broker = await startMosquitto(); });
  afterAll(async () => broker?.stop());

  it('runs a generated fleet in ChirpStack mode under a scenario and prints a JSON summary', async () => {
    const seen = new Set<string>();
    const observer = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    await observer.subscribeAsync('application/+/device/+/event/up', { qos: 1 });
    observer.on('message', (topic) => seen.add(topic));
    const r = await sim(['--mode', 'chirpstack', '--broker', broker.url, '--communities', '2', '--zones', '2', '--sensors', '1',
      '--scenario', 'rainstorm', '--duration', '6h', '--accel', '10800', '--json', '--seed', '3']);
    await observer.endAsync();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(summary.devices).toBeGreaterThanOrEqual(2 * 2 + 2 * 5);
    expect(summary.generated).toBeGreaterThan(summary.devices);
    expect(summary.acked).toBe(summary.generated);
    expect(seen.size).toBe(summary.devices);
  });

  it('explains what native mode needs when no credentials are given', async () => {
    const r = await sim(['--broker', broker.url, '--duration', '1h']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/native mode needs device secrets: --credentials FILE, or --api URL with --token/);
  });

  it('names an unknown scenario and the ones it has', async () => {
    const r = await sim(['--mode', 'tts', '--broker', broker.url, '--scenario', 'flood']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no scenario "flood" \(have: drought-week, rainstorm, vandalism-night, gateway-outage, broker-restart\)/);
  });
});
