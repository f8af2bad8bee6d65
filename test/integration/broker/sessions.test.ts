import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, eventually, queryRows, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { createConnection } from 'node:net';
import { api, closed, metricValue, sleep, subscribeGranted, tryConnect } from './support.ts';

const EUI = '0011223344556677';

describe('broker sessions: status, takeover, service accounts', () => {
  let t: TestApp;
  let secret: string;
  let watcher: MqttClient;
  const statuses: Array<{ topic: string; state: string; retain: boolean }> = [];
  const accounts: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp();
    secret = await t.register({ id: 'soil-7', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
    const admin = api(t, ADMIN_TOKEN);
    for (const body of [{ id: 'ops', kind: 'admin' }, { id: 'cs-main', kind: 'chirpstack', applications: ['app1'] }, { id: 'tts-main', kind: 'tts', applications: ['green@ttn'] }]) {
      const res = await admin.post('/api/v1/service-accounts', body);
      expect(res.statusCode).toBe(201);
      accounts[body.id] = (res.json() as { secret: string }).secret;
    }
    watcher = await connect(t.app.mqttPort, { clientId: 'ops', username: 'ops', password: accounts.ops });
    watcher.on('message', (topic, payload, packet) => topic.endsWith('/status') && statuses.push({ topic, state: (JSON.parse(payload.toString()) as { state: string }).state, retain: packet.retain }));
    expect(await subscribeGranted(watcher, 'gs/+/status')).toBe(1);
  });
  afterAll(async () => {
    watcher?.end(true);
    await t?.stop();
  });

  const device = () => connect(t.app.mqttPort, { clientId: 'soil-7', username: 'soil-7', password: secret });
  const lastState = () => statuses.filter((s) => s.topic === 'gs/soil-7/status').at(-1)?.state;
  /** What a newcomer sees: the retained status. */
  async function retainedState(): Promise<string | undefined> {
    const probe = await connect(t.app.mqttPort, { clientId: 'ops/probe', username: 'ops', password: accounts.ops });
    const got = new Promise<string>((resolve) => probe.once('message', (_t, payload) => resolve((JSON.parse(payload.toString()) as { state: string }).state)));
    await subscribeGranted(probe, 'gs/soil-7/status');
    const state = await Promise.race([got, sleep(1_000).then(() => undefined)]);
    probe.end(true);
    return state;
  }

  it('publishes a retained online on connect and offline when the connection dies without a will', async () => {
    const client = await device();
    await eventually(() => (lastState() === 'online' ? true : undefined), 2_000, 'online');
    expect(await retainedState()).toBe('online');
    client.stream.destroy(); // no DISCONNECT: the broker notices the dead socket
    await eventually(() => (lastState() === 'offline' ? true : undefined), 2_000, 'offline');
    expect(await retainedState()).toBe('offline');
  });

  it('marks a clean DISCONNECT offline too, and keeps the status its own even when the device sets a will there', async () => {
    const client = await connect(t.app.mqttPort, { clientId: 'soil-7', username: 'soil-7', password: secret, will: { topic: 'gs/soil-7/status', payload: Buffer.from('bye'), qos: 1, retain: true } });
    await eventually(() => (lastState() === 'online' ? true : undefined), 2_000, 'online');
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    await eventually(() => (lastState() === 'offline' ? true : undefined), 2_000, 'offline');
    expect(await retainedState()).toBe('offline');
  });

  it('lets a second connection with the same id take over cleanly: the first is closed, status stays online, readings flow', async () => {
    const first = await device();
    const firstClosed = closed(first);
    const second = await device();
    await firstClosed;
    first.end(true);
    await sleep(300);
    expect(second.connected).toBe(true);
    expect(await retainedState()).toBe('online');
    expect(statuses.filter((s) => s.topic === 'gs/soil-7/status').slice(-2).map((s) => s.state)).not.toContain('offline');
    await publish(second, 'gs/soil-7/up', JSON.stringify({ seq: 1, moisture: 27 }), 1);
    await eventually(async () => ((await queryRows(t.influx, `SELECT moisture FROM soil WHERE device = 'soil-7'`)).length === 1 ? true : undefined));
    second.end(true);
  });

  it('confines a ChirpStack account to its application tree', async () => {
    const cs = await connect(t.app.mqttPort, { clientId: 'cs-main', username: 'cs-main', password: accounts['cs-main'] });
    const received = await metricValue(t, 'gs_mqtt_messages_received_total', { format: 'chirpstack' });
    await publish(cs, `application/app1/device/${EUI}/event/up`, JSON.stringify({ devEui: EUI, object: { moisture: 30 } }), 1);
    expect(await metricValue(t, 'gs_mqtt_messages_received_total', { format: 'chirpstack' })).toBe(received + 1); // reached the ingest
    expect(await subscribeGranted(cs, 'application/app1/device/+/command/down')).toBe(1);
    expect(await subscribeGranted(cs, 'application/+/device/+/event/up')).toBe(128);
    expect(await subscribeGranted(cs, '#')).toBe(128);
    const denied = await metricValue(t, 'gs_mqtt_auth_failures_total', { reason: 'publish_denied' });
    cs.publish(`application/app2/device/${EUI}/event/up`, '{}', { qos: 1 });
    await closed(cs);
    cs.end(true);
    expect(await metricValue(t, 'gs_mqtt_auth_failures_total', { reason: 'publish_denied' })).toBe(denied + 1);
  });

  it('confines a TTS account to v3/{app}@{tenant} and refuses a service client id that could take over a device', async () => {
    const tts = await connect(t.app.mqttPort, { clientId: 'tts-main/1', username: 'tts-main', password: accounts['tts-main'] });
    await publish(tts, 'v3/green@ttn/devices/soil-7/up', JSON.stringify({ uplink_message: { decoded_payload: { moisture: 30 } } }), 1);
    expect(tts.connected).toBe(true);
    tts.publish('gs/soil-7/up', JSON.stringify({ seq: 99, moisture: 99 }), { qos: 1 });
    await closed(tts);
    tts.end(true);
    await expect(connect(t.app.mqttPort, { clientId: 'soil-7', username: 'tts-main', password: accounts['tts-main'] })).rejects.toThrow(/Identifier rejected/);
  });

  it('drops the connections of a disabled service account and refuses it after', async () => {
    const cs = await connect(t.app.mqttPort, { clientId: 'cs-main/a', username: 'cs-main', password: accounts['cs-main'] });
    expect((await api(t, ADMIN_TOKEN).post('/api/v1/service-accounts/cs-main/disable')).statusCode).toBe(200);
    await closed(cs);
    cs.end(true);
    await expect(connect(t.app.mqttPort, { clientId: 'cs-main', username: 'cs-main', password: accounts['cs-main'] })).rejects.toThrow(/Bad username or password/);
    expect(await metricValue(t, 'gs_mqtt_auth_failures_total', { reason: 'service_disabled' })).toBe(1);
  });

  it("delivers a device's will on another own topic when it dies, but not when its secret was revoked", async () => {
    const wills: string[] = [];
    const listener = (topic: string, payload: Buffer) => { if (topic === 'gs/soil-7/ack') wills.push(payload.toString()); };
    watcher.on('message', listener);
    expect(await subscribeGranted(watcher, 'gs/soil-7/ack')).toBe(1);
    const will = (text: string) => ({ topic: 'gs/soil-7/ack', payload: Buffer.from(text), qos: 1 as const, retain: false });
    const dying = await connect(t.app.mqttPort, { clientId: 'soil-7', username: 'soil-7', password: secret, will: will('died') });
    dying.stream.destroy();
    await eventually(() => (wills.includes('died') ? true : undefined), 2_000, 'the will of a dead connection');
    const revoked = await connect(t.app.mqttPort, { clientId: 'soil-7', username: 'soil-7', password: secret, will: will('revoked') });
    const rotated = await api(t, ADMIN_TOKEN).post('/api/v1/devices/soil-7/secret');
    secret = (rotated.json() as { secret: string }).secret;
    await closed(revoked);
    revoked.end(true);
    await sleep(500);
    expect(wills).toEqual(['died']);
    watcher.off('message', listener);
  });

  it('answers reconnects by the keyed hash, never scrypt (the rotated secret is stored keyed too)', async () => {
    const scrypt = await metricValue(t, 'gs_mqtt_credential_checks_total', { via: 'scrypt' });
    const keyed = await metricValue(t, 'gs_mqtt_credential_checks_total', { via: 'keyed' });
    for (let i = 0; i < 5; i++) (await device()).end(true);
    expect(await metricValue(t, 'gs_mqtt_credential_checks_total', { via: 'scrypt' })).toBe(scrypt);
    expect(await metricValue(t, 'gs_mqtt_credential_checks_total', { via: 'keyed' })).toBe(keyed + 5);
  });
});

describe('broker connection limits', () => {
  let t: TestApp;
  let secret: string;
  beforeAll(async () => {
    t = await startTestApp({ mqttMaxConnections: 2, mqttConnectBurstPerIp: 4, mqttConnectRatePerIpPerS: 0.01 });
    secret = await t.register({ id: 'soil-1', kind: 'soil' });
  });
  afterAll(async () => t?.stop());

  it('refuses connections past the cap and CONNECTs past the per-IP rate, and counts both', async () => {
    const login = { clientId: 'soil-1', username: 'soil-1', password: secret };
    const a = await tryConnect(t.app.mqttPort, login); // CONNECT 1 of 4
    const idle = createConnection(t.app.mqttPort, '127.0.0.1'); // a second socket that never speaks
    await new Promise((resolve) => idle.once('connect', resolve));
    const full = await tryConnect(t.app.mqttPort, login);
    expect(full.outcome).toBe('closed'); // cut at accept: no CONNECT read, none spent
    expect(await metricValue(t, 'gs_mqtt_auth_failures_total', { reason: 'too_many_connections' })).toBe(1);
    idle.destroy();
    a.client.end(true);
    await sleep(200);
    for (let i = 2; i <= 4; i++) {
      const next = await tryConnect(t.app.mqttPort, login);
      expect(next.outcome).toBe('connected');
      next.client.end(true);
      await sleep(50);
    }
    const limited = await tryConnect(t.app.mqttPort, login);
    expect(limited.outcome).toBe('closed');
    expect(await metricValue(t, 'gs_mqtt_auth_failures_total', { reason: 'connect_rate_limited' })).toBe(1);
  });
});

describe('a subscriber to readings', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.stop());

  it('receives every reading while subscribed, and readings are stored whether anyone subscribes or not', async () => {
    const secret = await t.register({ id: 'soil-sub', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
    const res = await api(t, ADMIN_TOKEN).post('/api/v1/service-accounts', { id: 'watch', kind: 'admin' });
    const watcher = await connect(t.app.mqttPort, { clientId: 'watch', username: 'watch', password: (res.json() as { secret: string }).secret });
    const device = await connect(t.app.mqttPort, { clientId: 'soil-sub', username: 'soil-sub', password: secret });
    const seen: number[] = [];
    watcher.on('message', (_topic, payload) => seen.push((JSON.parse(payload.toString()) as { seq: number }).seq));
    const base = Date.now() - 60_000;
    const send = (seq: number) => publish(device, 'gs/soil-sub/up', JSON.stringify({ ts: base + seq, seq, moisture: 20 }), 1);

    await send(1); // nobody subscribed: the ingest alone takes it
    expect(await subscribeGranted(watcher, 'gs/+/up')).toBe(1);
    for (const seq of [2, 3, 4]) await send(seq);
    await eventually(() => (seen.length === 3 ? true : undefined), 5_000, 'the subscriber got its readings');
    await new Promise((resolve) => watcher.unsubscribe('gs/+/up', resolve));
    await send(5);
    await sleep(200);
    expect(seen).toEqual([2, 3, 4]);
    await eventually(async () => ((await queryRows(t.influx, 'SELECT count(moisture) FROM soil'))[0]?.count === 5 ? true : undefined), 5_000, 'all five stored');
    watcher.end(true);
    device.end(true);
  });
});
