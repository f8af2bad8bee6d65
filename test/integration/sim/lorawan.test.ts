import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { eventually } from '../../helpers/app.ts';
import { createLogger } from '../../../lib/logger.ts';
import { parseTopic } from '../../../contracts/topics.ts';
import { FleetSpec, devEuiFor } from '../../../firmware-sim/fleet/spec.ts';
import { startSimulation, type Simulation } from '../../../firmware-sim/simulation.ts';
import { backfillStart } from '../../../firmware-sim/sim-clock.ts';
import { startMosquitto, type Mosquitto } from './mosquitto.ts';

const fleet = FleetSpec.parse({
  intervals: { soilS: 60, tiltS: 60, valveS: 60 },
  communities: [
    { id: 'c1', district: 'd1', zones: [{ id: 'z1', mode: 'automatic', soilSensors: 2 }], facilities: [{ id: 'f1', type: 'pavilion' }] },
    { id: 'c2', district: 'd1', zones: [{ id: 'z2', soilSensors: 1 }] },
  ],
});

type Msg = { topic: string; body: Record<string, any> };

async function observer(url: string): Promise<{ client: MqttClient; messages: Msg[] }> {
  const messages: Msg[] = [];
  const client = await mqtt.connectAsync(url, { clientId: 'observer', username: 'observer', password: 'obs-pass', protocolVersion: 4, reconnectPeriod: 0 });
  await client.subscribeAsync(['application/#', 'v3/#'], { qos: 1 });
  client.on('message', (topic, payload) => messages.push({ topic, body: JSON.parse(payload.toString()) }));
  return { client, messages };
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe.each([
  { format: 'chirpstack' as const, codec: 'native' as const, net: { application: '3f6a1c2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f', tenant: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242' } },
  { format: 'tts' as const, codec: 'milesight' as const, net: { application: 'greenspace', tenant: 'ttn' } },
])('LoRaWAN mode: $format envelopes through one service account', ({ format, codec, net }) => {
  let broker: Mosquitto;
  let sim: Simulation;
  let obs: Awaited<ReturnType<typeof observer>>;
  const uplinks = () => obs.messages.filter((m) => parseTopic(m.topic)?.format === format && (parseTopic(m.topic) as { event: string }).event === 'up');

  beforeAll(async () => {
    broker = await startMosquitto({ users: { 'ns-service': 'ns-pass', observer: 'obs-pass' } });
    obs = await observer(broker.url);
    const accel = 600;
    sim = await startSimulation({
      fleet,
      transport: { mode: 'lorawan', format, net, codec, username: 'ns-service', password: 'ns-pass' },
      brokerUrl: broker.url,
      accel,
      startMs: backfillStart(Date.now(), 3_600_000, accel),
      seed: 3,
      logger: createLogger('silent'),
    });
  });
  afterAll(async () => {
    await sim?.stop();
    obs?.client.end(true);
    await broker?.stop();
  });

  it('refuses to start without the service account password (the broker requires it)', async () => {
    await expect(startSimulation({
      fleet, transport: { mode: 'lorawan', format, net, codec, username: 'ns-service', password: 'wrong' },
      brokerUrl: broker.url, accel: 600, startMs: Date.now(), seed: 1, logger: createLogger('silent'),
    })).rejects.toThrow(/Not authorized|Bad username/i);
  });

  it('publishes each device on the server topic with the server envelope', async () => {
    await eventually(() => (new Set(uplinks().map((m) => m.topic)).size === sim.devices.length && uplinks().length >= 2 * sim.devices.length ? true : undefined), 5_000, 'two uplinks per device');
    for (const { topic, body } of uplinks()) {
      const parsed = parseTopic(topic)!;
      if (format === 'chirpstack') {
        const p = parsed as Extract<typeof parsed, { format: 'chirpstack' }>;
        expect(p.applicationId).toBe(net.application);
        const device = sim.devices.find((d) => d.devEui === p.devEui)!;
        expect(body).toEqual(expect.objectContaining({
          deduplicationId: expect.stringMatching(UUID),
          time: expect.stringMatching(RFC3339),
          deviceInfo: expect.objectContaining({ tenantId: net.tenant, applicationId: net.application, deviceName: device.id, devEui: devEuiFor(device.id) }),
          devAddr: expect.stringMatching(/^[0-9a-f]{8}$/),
          fCnt: expect.any(Number),
          fPort: 2,
          data: expect.any(String),
          object: expect.any(Object),
          rxInfo: [expect.objectContaining({ gatewayId: expect.stringMatching(/^[0-9a-f]{16}$/), rssi: expect.any(Number), snr: expect.any(Number) })],
          txInfo: expect.objectContaining({ frequency: expect.any(Number), modulation: { lora: expect.objectContaining({ spreadingFactor: expect.any(Number) }) } }),
        }));
        if (device.kind === 'soil') expect(body.object).toEqual(expect.objectContaining({ moisture: expect.any(Number), temperature: expect.any(Number), battery: expect.any(Number) }));
        expect(body.object.ts).toBeUndefined();
      } else {
        const p = parsed as Extract<typeof parsed, { format: 'tts' }>;
        expect([p.application, p.tenant]).toEqual([net.application, net.tenant]);
        const device = sim.devices.find((d) => d.id === p.deviceId)!;
        expect(body).toEqual(expect.objectContaining({
          end_device_ids: expect.objectContaining({ device_id: device.id, application_ids: { application_id: net.application }, dev_eui: device.devEui.toUpperCase() }),
          correlation_ids: [expect.any(String)],
          received_at: expect.stringMatching(RFC3339),
          uplink_message: expect.objectContaining({
            f_port: 2,
            frm_payload: expect.any(String),
            decoded_payload: expect.any(Object),
            rx_metadata: [expect.objectContaining({ gateway_ids: expect.objectContaining({ gateway_id: `gw-${device.communityId}` }), rssi: expect.any(Number) })],
            settings: expect.objectContaining({ frequency: expect.stringMatching(/^\d+$/) }),
          }),
        }));
        if (device.kind === 'soil') expect(body.uplink_message.decoded_payload).toEqual(expect.objectContaining({ moisture: expect.any(Number), ec: expect.any(Number) }));
        if (device.kind === 'tilt') expect(body.uplink_message.decoded_payload).toEqual(expect.objectContaining({ angle_x: expect.any(Number), angle_y: expect.any(Number), threshold_x: 'normal' }));
      }
    }
  });

  it('counts frames per device from zero (TTS omits a zero f_cnt)', () => {
    const byDevice = new Map<string, number[]>();
    for (const { topic, body } of uplinks()) {
      const fcnt = format === 'chirpstack' ? body.fCnt : (body.uplink_message.f_cnt ?? 0);
      byDevice.set(topic, [...(byDevice.get(topic) ?? []), fcnt]);
    }
    // Each device counts 0, 1, 2, … in order; on a loaded machine a device with a long report
    // interval may have sent only its first frame in the window, so at least one must show two.
    for (const counts of byDevice.values()) expect(counts).toEqual(counts.map((_, i) => i));
    expect(Math.max(...[...byDevice.values()].map((c) => c.length))).toBeGreaterThanOrEqual(2);
  });

  const downlink = async (valve: { id: string; devEui: string }, cmd: Record<string, unknown>): Promise<void> => {
    if (format === 'chirpstack') {
      await obs.client.publishAsync(`application/${net.application}/device/${valve.devEui}/command/down`, JSON.stringify({ devEui: valve.devEui, confirmed: true, fPort: 2, object: cmd }), { qos: 1 });
    } else {
      await obs.client.publishAsync(`v3/${net.application}@${net.tenant}/devices/${valve.id}/down/push`,
        JSON.stringify({ downlinks: [{ f_port: 2, frm_payload: Buffer.from(JSON.stringify(cmd)).toString('base64'), priority: 'NORMAL', confirmed: true }] }), { qos: 1 });
    }
  };

  it('delivers a valve command sent as a downlink, confirms it, and reports the open valve', async () => {
    const cmd = { commandId: `dl-${format}`, action: 'open', autoOffS: 600, issuedAt: Date.now() };
    const valve = sim.devices.find((d) => d.kind === 'valve')!;
    await downlink(valve, cmd);
    const ackTopic = format === 'chirpstack' ? `application/${net.application}/device/${valve.devEui}/event/ack` : `v3/${net.application}@${net.tenant}/devices/${valve.id}/down/ack`;
    await eventually(() => obs.messages.find((m) => m.topic === ackTopic), 5_000, 'the ack event');
    expect(sim.world.valveOpen(valve.id)).toBe(true);
    const state = (m: Msg) => (format === 'chirpstack' ? m.body.object?.state : m.body.uplink_message?.decoded_payload?.state);
    await eventually(() => uplinks().find((m) => m.topic.includes(format === 'chirpstack' ? valve.devEui : valve.id) && state(m) === 1), 5_000, 'an open-valve uplink');
  });

  it('refuses a downlink older than the last command it obeyed, and the valve stays closed', async () => {
    const valve = sim.devices.find((d) => d.kind === 'valve')!;
    const issuedAt = Date.now();
    const obeyed = sim.stats.commandsObeyed;
    await downlink(valve, { commandId: `dl-close-${format}`, action: 'close', issuedAt });
    await eventually(() => (sim.stats.commandsObeyed === obeyed + 1 ? true : undefined), 5_000, 'the close obeyed');
    const rejected = sim.stats.commandsRejected;
    await downlink(valve, { commandId: `dl-old-${format}`, action: 'open', autoOffS: 600, issuedAt: issuedAt - 60_000 });
    await eventually(() => (sim.stats.commandsRejected === rejected + 1 ? true : undefined), 5_000, 'the stale open refused');
    expect(sim.world.valveOpen(valve.id)).toBe(false);
    expect(sim.stats.commandsObeyed).toBe(obeyed + 1);
  });

  it('loses the uplinks of a community whose gateway is down, and only those', async () => {
    sim.setCommunityLink('c2', false);
    await new Promise((r) => setTimeout(r, 150));
    const from = obs.messages.length;
    const lostBefore = sim.stats.uplinksLost;
    await eventually(() => (sim.stats.uplinksLost - lostBefore >= 2 ? true : undefined), 5_000, 'lost uplinks');
    const during = obs.messages.slice(from).filter((m) => parseTopic(m.topic) && m.topic.endsWith('/up'));
    expect(during.some((m) => JSON.stringify(m.body).includes('z2-s1'))).toBe(false);
    expect(during.some((m) => JSON.stringify(m.body).includes('z1-s1'))).toBe(true);
    sim.setCommunityLink('c2', true);
  });
});
