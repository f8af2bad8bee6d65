import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADMIN_TOKEN, countPoints, eventually, queryRows, startTestApp, type TestApp } from '../../helpers/app.ts';
import { createLogger } from '../../../lib/logger.ts';
import { FleetSpec, listDevices } from '../../../firmware-sim/fleet/spec.ts';
import { registerFleet } from '../../../firmware-sim/fleet/provision.ts';
import { startSimulation, type Simulation } from '../../../firmware-sim/simulation.ts';
import { backfillStart } from '../../../firmware-sim/sim-clock.ts';
import { startWriteTap, writtenTwice, type WriteTap } from '../../helpers/write-tap.ts';

const fleet = FleetSpec.parse({
  intervals: { soilS: 60, tiltS: 60, valveS: 60 },
  communities: [{
    id: 'c1',
    district: 'd1',
    gateway: true,
    zones: [{ id: 'z1', mode: 'automatic', soil: 'loam', soilSensors: 3, areaM2: 60, flowLPerMin: 12, initialMoisture: 18 }],
    facilities: [{ id: 'f1', type: 'bench' }],
  }],
});
const devices = listDevices(fleet);
const soilIds = devices.filter((d) => d.kind === 'soil').map((d) => d.id);

describe('simulated firmware against the running app', () => {
  let t: TestApp;
  let tap: WriteTap;
  let sim: Simulation;
  const acks: Array<Record<string, unknown>> = [];
  const status = new Map<string, string>();

  beforeAll(async () => {
    // The app writes through a tap that keeps every line influxd accepted.
    tap = await startWriteTap(inject('influxUrl'));
    t = await startTestApp({ influxUrl: tap.url });
    const reg = await registerFleet({ apiUrl: `http://127.0.0.1:${t.app.httpPort}`, token: ADMIN_TOKEN, devices });
    expect(reg.failures).toEqual([]);
    expect(reg.credentials.size).toBe(devices.length);
    await t.app.broker.subscribe('gs/+/ack', (_topic, payload) => acks.push(JSON.parse(payload.toString())));
    await t.app.broker.subscribe('gs/+/status', (topic, payload) => status.set(topic.split('/')[1]!, JSON.parse(payload.toString()).state));
    const accel = 600;
    sim = await startSimulation({
      fleet,
      transport: { mode: 'native', credentials: reg.credentials, backoff: { baseMs: 100, capMs: 500 } },
      brokerUrl: `mqtt://127.0.0.1:${t.app.mqttPort}`,
      accel,
      startMs: backfillStart(Date.now(), 6 * 3_600_000, accel),
      seed: 7,
      logger: createLogger('silent'),
    });
    await eventually(() => (sim.connected() === devices.length ? true : undefined), 5_000, 'all devices connected');
  });
  afterAll(async () => {
    await sim?.stop();
    await t?.stop();
    await tap?.close();
  });

  it('refuses nothing the healthy firmware sends: registration, credentials and topics agree', async () => {
    await eventually(() => (sim.stats.acked >= devices.length * 2 ? true : undefined), 5_000, 'some readings acked');
    const metrics = (await t.app.api.inject({ url: '/metrics' })).body;
    expect(metrics).not.toMatch(/gs_readings_rejected_total\{[^}]*\} [1-9]/);
    expect(metrics).not.toMatch(/gs_mqtt_auth_failures_total\{[^}]*\} [1-9]/);
  });

  it("marks a community's gateway offline by its will when the link fails, online when it returns", async () => {
    await eventually(() => (status.get('c1-gw') === 'online' ? true : undefined), 5_000, 'gateway online');
    sim.setCommunityLink('c1', false);
    await eventually(() => (status.get('c1-gw') === 'offline' && status.get('z1-s1') === 'offline' ? true : undefined), 5_000, 'gateway and sensors offline');
    sim.setCommunityLink('c1', true);
    await eventually(() => (status.get('c1-gw') === 'online' && sim.connected() === devices.length ? true : undefined), 10_000, 'back online');
    const metrics = (await t.app.api.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/gs_readings_accepted_total\{kind="gateway"\} [1-9]/);
  });

  it('obeys a valve command on its down topic, acks it, waters the zone and closes by itself', async () => {
    const before = sim.world.zoneMoisture('z1')!;
    await t.app.broker.publish({ topic: 'gs/z1-v/down', payload: JSON.stringify({ commandId: 'cmd-1', action: 'open', autoOffS: 1800, issuedAt: Date.now() }), qos: 1, retain: false });
    const ack = await eventually(() => acks.find((a) => a.commandId === 'cmd-1'), 10_000, 'the ack');
    expect(ack).toEqual(expect.objectContaining({ commandId: 'cmd-1', ok: true, state: 1 }));
    expect(sim.world.valveOpen('z1-v')).toBe(true);
    // 30 simulated minutes = 3 s here; the valve closes on its own.
    await eventually(() => (!sim.world.valveOpen('z1-v') ? true : undefined), 10_000, 'auto-off');
    // 12 L/min for 30 min over 60 m² = 6 mm into a 300 mm root zone: about +2 % VWC.
    expect(sim.world.zoneMoisture('z1')! - before).toBeGreaterThan(1);
    const rows = await eventually(async () => {
      const r = await queryRows(t.influx, `SELECT state, volume FROM valve WHERE device = 'z1-v'`);
      return r.some((x) => x.state === 1) && r.at(-1)?.state === 0 && Number(r.at(-1)?.volume) > 0 ? r : undefined;
    }, 5_000, 'open then closed in InfluxDB');
    expect(Number(rows.at(-1)!.volume)).toBeCloseTo(360, -1);
    expect(sim.stats.commandsObeyed).toBe(1);
  });

  it('acknowledges a malformed command as refused and leaves the valve alone', async () => {
    await t.app.broker.publish({ topic: 'gs/z1-v/down', payload: JSON.stringify({ commandId: 'cmd-2', action: 'open', issuedAt: Date.now() }), qos: 1, retain: false });
    const ack = await eventually(() => acks.find((a) => a.commandId === 'cmd-2'), 5_000, 'the refusal');
    expect(ack).toEqual(expect.objectContaining({ commandId: 'cmd-2', ok: false, state: 0 }));
    expect(ack.error).toMatch(/autoOffS/);
    expect(sim.world.valveOpen('z1-v')).toBe(false);
  });

  it('refuses an old open that arrives after a newer close as stale, and the valve stays closed', async () => {
    const issuedAt = Date.now();
    await t.app.broker.publish({ topic: 'gs/z1-v/down', payload: JSON.stringify({ commandId: 'cmd-3', action: 'close', issuedAt }), qos: 1, retain: false });
    expect(await eventually(() => acks.find((a) => a.commandId === 'cmd-3'), 5_000, 'the close ack')).toEqual(expect.objectContaining({ ok: true, state: 0 }));
    // An open decided a minute before that close, delivered late (a persistent session's queue after a reconnect).
    await t.app.broker.publish({ topic: 'gs/z1-v/down', payload: JSON.stringify({ commandId: 'cmd-4', action: 'open', autoOffS: 1800, issuedAt: issuedAt - 60_000 }), qos: 1, retain: false });
    const ack = await eventually(() => acks.find((a) => a.commandId === 'cmd-4'), 5_000, 'the refusal');
    expect(ack).toEqual(expect.objectContaining({ commandId: 'cmd-4', ok: false, state: 0, error: 'stale' }));
    expect(sim.world.valveOpen('z1-v')).toBe(false);
    expect(sim.stats.commandsObeyed).toBe(2);
  });

  it('delivers readings buffered through link outages into InfluxDB exactly once', async () => {
    for (let round = 0; round < 2; round++) {
      for (const f of sim.firmwares.values()) f.connection.setReachable(false);
      await eventually(() => (sim.buffered() >= devices.length * 4 ? true : undefined), 5_000, 'a backlog');
      for (const f of sim.firmwares.values()) f.connection.setReachable(true);
      // Cut some sessions again mid-flush: unacknowledged batches are resent, the ingest dedups them.
      await new Promise((r) => setTimeout(r, 30));
      for (const id of soilIds.slice(0, 2)) sim.firmwares.get(id)!.connection.drop();
    }
    sim.stopReporting();
    await eventually(() => (sim.buffered() === 0 && sim.stats.acked === sim.stats.generated ? true : undefined), 10_000, 'every reading acknowledged');
    expect(sim.stats.batches).toBeGreaterThan(0);
    const soilReadings = soilIds.reduce((n, id) => n + sim.seqOf(id), 0);
    const tiltReadings = sim.seqOf('f1-t1');
    // Every reading was acknowledged, so it is in the durable log: once that is shipped, nothing more comes.
    await eventually(() => (t.app.durableLog.backlog().lines === 0 ? true : undefined), 10_000, 'the durable log shipped');
    // What was written, not what survived (InfluxDB overwrites a point written twice):
    // a resent batch the ingest failed to de-duplicate would be a second write here.
    const soil = tap.lines((l) => l.startsWith('soil,'));
    const tilt = tap.lines((l) => l.startsWith('tilt,'));
    expect(writtenTwice(soil)).toEqual(new Map());
    expect(writtenTwice(tilt)).toEqual(new Map());
    expect(soil).toHaveLength(soilReadings);
    expect(tilt).toHaveLength(tiltReadings);
    expect(await countPoints(t.influx, 'soil', 'moisture')).toBe(soilReadings);
    expect(await countPoints(t.influx, 'tilt', 'pitch')).toBe(tiltReadings);
  });
});
