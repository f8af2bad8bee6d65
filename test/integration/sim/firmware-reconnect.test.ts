import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { eventually } from '../../helpers/app.ts';
import { createLogger } from '../../../lib/logger.ts';
import { FleetSpec, listDevices } from '../../../firmware-sim/fleet/spec.ts';
import { startSimulation, type Simulation } from '../../../firmware-sim/simulation.ts';
import { backfillStart } from '../../../firmware-sim/sim-clock.ts';
import { startMosquitto, type Mosquitto } from './mosquitto.ts';

const fleet = FleetSpec.parse({
  intervals: { soilS: 60 },
  communities: [{ id: 'c1', district: 'd1', zones: [{ id: 'z1', soilSensors: 8 }] }],
});
const ids = listDevices(fleet).map((d) => d.id);

/** An observer with a persistent session, so it misses nothing across the broker restart. */
function observe(url: string) {
  const readings = new Map<string, Array<{ seq: number; ts: number }>>();
  const arrays: number[] = [];
  const status = new Map<string, string>();
  const client: MqttClient = mqtt.connect(url, { clientId: 'observer', clean: false, reconnectPeriod: 50, protocolVersion: 4 });
  client.subscribe(['gs/+/up', 'gs/+/status'], { qos: 1 });
  client.on('message', (topic, payload) => {
    const id = topic.split('/')[1]!;
    const body = JSON.parse(payload.toString());
    if (topic.endsWith('/status')) return void status.set(id, body.state);
    const items = Array.isArray(body) ? body : [body];
    if (Array.isArray(body)) arrays.push(body.length);
    readings.set(id, [...(readings.get(id) ?? []), ...items]);
  });
  return { client, readings, arrays, status, ready: new Promise((r) => client.once('connect', r)) };
}

describe('firmware over a broker that restarts', () => {
  let broker: Mosquitto;
  let sim: Simulation;
  let obs: ReturnType<typeof observe>;

  beforeAll(async () => {
    broker = await startMosquitto();
    obs = observe(broker.url);
    await obs.ready;
    const accel = 600; // a 60 s report interval every 100 ms
    sim = await startSimulation({
      fleet,
      transport: { mode: 'native', credentials: new Map(ids.map((id) => [id, 'anything'])), backoff: { baseMs: 200, capMs: 1_000 } },
      brokerUrl: broker.url,
      accel,
      startMs: backfillStart(Date.now(), 3_600_000, accel),
      seed: 42,
      logger: createLogger('silent'),
    });
  });
  afterAll(async () => {
    await sim?.stop();
    obs?.client.end(true);
    await broker?.stop();
  });

  it('connects every device, announces it online, and reports with monotonic seq', async () => {
    await eventually(() => (sim.connected() === ids.length ? true : undefined), 5_000, 'all devices connected');
    await eventually(() => (ids.every((id) => (obs.readings.get(id)?.length ?? 0) >= 3) ? true : undefined), 5_000, 'three readings each');
    for (const id of ids) {
      expect(obs.status.get(id)).toBe('online');
      const seqs = obs.readings.get(id)!.map((r) => r.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });

  it('buffers through a broker restart, reconnects every device, and delivers the backlog as batches with no gap', async () => {
    await broker.kill();
    await eventually(() => (sim.connected() === 0 ? true : undefined), 5_000, 'all devices disconnected');
    await eventually(() => (sim.buffered() >= ids.length * 5 ? true : undefined), 5_000, 'a backlog while the broker is down');
    const reconnectsBefore = sim.stats.reconnects;
    await broker.restart();
    await eventually(() => (sim.stats.reconnects - reconnectsBefore === ids.length ? true : undefined), 10_000, 'every device reconnected once');
    await eventually(() => (sim.buffered() === 0 ? true : undefined), 5_000, 'backlog flushed');
    const generated = new Map(ids.map((id) => [id, sim.seqOf(id)]));
    await eventually(() => (ids.every((id) => new Set(obs.readings.get(id)!.map((r) => r.seq)).size >= generated.get(id)!) ? true : undefined), 5_000, 'every reading observed');
    expect(obs.arrays.length).toBeGreaterThanOrEqual(ids.length);
    expect(Math.max(...obs.arrays)).toBeGreaterThanOrEqual(5);
    for (const id of ids) {
      const seqs = [...new Set(obs.readings.get(id)!.map((r) => r.seq))].sort((a, b) => a - b);
      // Every seq from 0 up, none missing: nothing was lost in the outage.
      expect(seqs.slice(0, generated.get(id)!)).toEqual(Array.from({ length: generated.get(id)! }, (_, i) => i));
    }
    expect(sim.stats.dropped).toBe(0);
  });

  it('leaves a retained offline status when a link dies, and online again when it returns', async () => {
    const f = sim.firmwares.get(ids[0]!)!;
    f.connection.setReachable(false);
    await eventually(() => (obs.status.get(ids[0]!) === 'offline' ? true : undefined), 5_000, 'the last will');
    f.connection.setReachable(true);
    await eventually(() => (obs.status.get(ids[0]!) === 'online' ? true : undefined), 5_000, 'online again');
  });
});
