import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { countPoints, eventually, startTestApp, UNLIMITED, type TestApp } from '../../helpers/app.ts';
import { connect } from '../../helpers/mqtt.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the intake gate: the broker stops reading its sockets while held', () => {
  let t: TestApp;
  let client: MqttClient;

  beforeAll(async () => {
    t = await startTestApp({ intakeMaxBacklog: 0, ...UNLIMITED }); // held and let go by hand here
    const secret = await t.register({ id: 'soil-gate', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
    client = await connect(t.app.mqttPort, { clientId: 'soil-gate', username: 'soil-gate', password: secret });
  });
  afterAll(async () => {
    client?.end(true);
    await t?.stop();
  });

  it('delivers what was sent while held once it is let go', async () => {
    const base = Date.now() - 60_000;
    t.app.broker.holdIntake(true);
    for (let seq = 0; seq < 50; seq++) client.publish('gs/soil-gate/up', JSON.stringify({ ts: base + seq, seq, moisture: 20 }), { qos: 0 });
    await sleep(300);
    expect(await countPoints(t.influx, 'soil', 'moisture')).toBe(0); // nothing given to aedes
    t.app.broker.holdIntake(false);
    await eventually(async () => ((await countPoints(t.influx, 'soil', 'moisture')) === 50 ? true : undefined), 5_000, '50 points after the hold');
  });
});

describe('backpressure: a tight backlog bound holds and lets go of the intake without losing a reading', () => {
  let t: TestApp;
  let client: MqttClient;

  beforeAll(async () => {
    // A bound of 1 point: the intake is held after nearly every commit and let go as the
    // shipper catches up; readings must still all arrive, none twice, none lost.
    t = await startTestApp({ intakeMaxBacklog: 1, ...UNLIMITED });
    const secret = await t.register({ id: 'soil-bp', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
    client = await connect(t.app.mqttPort, { clientId: 'soil-bp', username: 'soil-bp', password: secret });
  });
  afterAll(async () => {
    client?.end(true);
    await t?.stop();
  });

  it('stores a QoS 1 stream exactly while the tight bound holds and releases the intake', async () => {
    const base = Date.now() - 30_000;
    // InfluxDB has stored something (the control holds only while InfluxDB is storing).
    await client.publishAsync('gs/soil-bp/up', JSON.stringify({ ts: base - 1, seq: 999, moisture: 21 }), { qos: 1 });
    await eventually(async () => ((await countPoints(t.influx, 'soil', 'moisture')) === 1 ? true : undefined), 5_000, 'the first point');
    await Promise.all(Array.from({ length: 2_000 }, (_, i) => client.publishAsync('gs/soil-bp/up', JSON.stringify({ ts: base + i, seq: 1_000 + i, moisture: 21 }), { qos: 1 })));
    await eventually(async () => ((await countPoints(t.influx, 'soil', 'moisture')) === 2_001 ? true : undefined), 10_000, 'every acknowledged reading stored');
    const holds = (await t.app.metrics.registry.getSingleMetricAsString('gs_ingest_intake_holds_total')).match(/gs_ingest_intake_holds_total (\d+)/);
    expect(Number(holds?.[1])).toBeGreaterThan(0); // the bound was really exercised
    await eventually(() => (t.app.broker.isIntakeHeld() ? undefined : true), 5_000, 'the intake let go once InfluxDB caught up');
  });
});

describe('the intake gate and a client that disconnects while held', () => {
  let t: TestApp;
  let secret: string;

  beforeAll(async () => {
    t = await startTestApp({ intakeMaxBacklog: 0, ...UNLIMITED }); // held and let go by hand here
    secret = await t.register({ id: 'soil-sleepy', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('delivers what a connect-publish-disconnect device sent before its DISCONNECT once the gate opens', async () => {
    const client = await connect(t.app.mqttPort, { clientId: 'soil-sleepy', username: 'soil-sleepy', password: secret });
    const base = Date.now() - 60_000;
    t.app.broker.holdIntake(true);
    for (let seq = 0; seq < 20; seq++) client.publish('gs/soil-sleepy/up', JSON.stringify({ ts: base + seq, seq, moisture: 20 }), { qos: 0 });
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve())); // DISCONNECT, then FIN: back to sleep
    await sleep(300);
    t.app.broker.holdIntake(false);
    await eventually(async () => ((await countPoints(t.influx, 'soil', 'moisture')) === 20 ? true : undefined), 5_000, 'the 20 readings sent before the DISCONNECT');
  });

  it('delivers a burst of QoS 0 readings whose sender closed its socket without a DISCONNECT', async () => {
    // More than the wrapper buffers (256 KiB): the socket closes while aedes still has
    // readings to parse, which must not go with it.
    const client = await connect(t.app.mqttPort, { clientId: 'soil-sleepy', username: 'soil-sleepy', password: secret });
    const before = await countPoints(t.influx, 'soil', 'moisture');
    const base = Date.now() - 50_000;
    t.app.broker.holdIntake(true);
    await Promise.all(Array.from({ length: 5_000 }, (_, seq) =>
      new Promise<void>((resolve) => client.publish('gs/soil-sleepy/up', JSON.stringify({ ts: base + seq, seq: 100 + seq, moisture: 21 }), { qos: 0 }, () => resolve()))));
    client.stream.destroy(); // FIN right behind the readings, no DISCONNECT
    await sleep(300);
    t.app.broker.holdIntake(false);
    await eventually(async () => ((await countPoints(t.influx, 'soil', 'moisture')) === before + 5_000 ? true : undefined), 10_000, 'all 5,000 readings of the closed connection');
  });
});

