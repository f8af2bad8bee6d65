import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, eventually, queryRows, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { api, closed, metricValue, sleep, subscribeGranted } from './support.ts';

/** Abusive payloads carry this moisture value, so "nothing ingested" is one query. */
const MARKER = 66.6;
const BURST = 20;

describe('the broker refuses every abuse while a well-behaved device keeps publishing', () => {
  let t: TestApp;
  const secrets: Record<string, string> = {};
  let good: MqttClient;
  let goodAcked = 0;
  let goodClosed = 0;
  let running = true;
  let background: Promise<void>;
  let abuseSeq = 1_000;
  const marker = () => JSON.stringify({ seq: abuseSeq++, moisture: MARKER });

  beforeAll(async () => {
    t = await startTestApp({ mqttMaxPacketBytes: 64 * 1024, mqttPublishRatePerS: 5, mqttPublishBurst: BURST, mqttRateLimitDisconnectAfter: 30 });
    for (const id of ['good-1', 'bad-1', 'victim-2', 'flood-1', 'dis-1', 'rot-1']) {
      secrets[id] = await t.register({ id, kind: 'soil', place: { district: 'd1', community: 'c1', zone: `z-${id}` } });
    }
    good = await connect(t.app.mqttPort, { clientId: 'good-1', username: 'good-1', password: secrets['good-1'] });
    good.on('close', () => { goodClosed += 1; });
    // 4 readings a second, inside the 5/s budget, for the whole matrix.
    background = (async () => {
      for (let seq = 1; running; seq++) {
        await publish(good, 'gs/good-1/up', JSON.stringify({ seq, moisture: 20 + (seq % 10) }), 1);
        goodAcked += 1;
        await sleep(250);
      }
    })();
  });
  afterAll(async () => {
    running = false;
    await background?.catch(() => undefined);
    good?.end(true);
    await t?.stop();
  });

  const device = (id: string, password = secrets[id]) => connect(t.app.mqttPort, { clientId: id, username: id, password });
  const refusals = (reason: string) => metricValue(t, 'gs_mqtt_auth_failures_total', { reason });

  it.each([
    ['a wrong password', 'bad_credentials', () => connect(t.app.mqttPort, { clientId: 'bad-1', username: 'bad-1', password: 'wrong' }), /Bad username or password/],
    ['an unknown device', 'bad_credentials', () => connect(t.app.mqttPort, { clientId: 'ghost-9', username: 'ghost-9', password: 'x' }), /Bad username or password/],
    ['a client id that is not the device id', 'client_id_mismatch', () => connect(t.app.mqttPort, { clientId: 'bad-2', username: 'bad-1', password: secrets['bad-1'] }), /Identifier rejected/],
  ])('refuses %s at CONNECT and counts it as %s', async (_what, reason, attempt, message) => {
    const before = await refusals(reason);
    await expect(attempt()).rejects.toThrow(message);
    expect(await refusals(reason)).toBe(before + 1);
  });

  it("closes a device publishing to another device's topic", async () => {
    const before = await refusals('publish_denied');
    const client = await device('bad-1');
    client.publish('gs/victim-2/up', marker(), { qos: 1 });
    await closed(client);
    client.end(true);
    expect(await refusals('publish_denied')).toBe(before + 1);
  });

  it.each(['#', '$SYS/#', 'gs/+/up', 'gs/good-1/down'])('refuses a device subscription to %s and delivers it nothing', async (filter) => {
    const before = await refusals('subscribe_denied');
    const client = await device('bad-1');
    const received: string[] = [];
    const fence = 'gs/bad-1/down';
    const fenced = new Promise<void>((resolve) => client.on('message', (topic) => (topic === fence ? resolve() : received.push(topic))));
    expect(await subscribeGranted(client, filter)).toBe(128);
    expect(await subscribeGranted(client, fence)).toBe(1);
    // Traffic the refused filter would match: two of the good device's readings, and a command to it.
    const acked = goodAcked;
    await eventually(() => (goodAcked >= acked + 2 ? true : undefined), 5_000, "two of good-1's readings");
    await t.app.broker.publish({ topic: 'gs/good-1/down', payload: Buffer.from('{}'), qos: 1, retain: false });
    // Then a message on the device's own command topic: the broker delivers to a client in order,
    // so once it arrives anything the refused filter had let through would have arrived before it.
    await t.app.broker.publish({ topic: fence, payload: Buffer.from('{}'), qos: 1, retain: false });
    await fenced;
    expect(received).toEqual([]);
    expect(client.connected).toBe(true); // a refused filter is answered, the connection stays
    client.end(true);
    expect(await refusals('subscribe_denied')).toBe(before + 1);
  });

  it('closes the connection on a packet over the size limit before it is buffered', async () => {
    const before = await refusals('packet_too_large');
    const client = await device('bad-1');
    client.publish('gs/bad-1/up', JSON.stringify({ seq: abuseSeq++, moisture: MARKER, pad: 'x'.repeat(100 * 1024) }), { qos: 1 });
    await closed(client);
    client.end(true);
    expect(await refusals('packet_too_large')).toBe(before + 1);
  });

  it('drops a publish flood past the budget, counts it, and disconnects the offender', async () => {
    const dropsBefore = await refusals('rate_limited');
    const disconnectsBefore = await refusals('rate_limit_disconnect');
    const client = await device('flood-1');
    const started = Date.now();
    for (let seq = 1; seq <= 300 && client.connected; seq++) client.publish('gs/flood-1/up', JSON.stringify({ seq, moisture: 40 }), { qos: 0 });
    await closed(client);
    client.end(true);
    const elapsedS = (Date.now() - started) / 1000;
    const dropped = (await refusals('rate_limited')) - dropsBefore;
    expect(dropped).toBeGreaterThanOrEqual(30);
    expect(await refusals('rate_limit_disconnect')).toBe(disconnectsBefore + 1);
    // Every reading the broker let through was appended before the disconnect that followed the
    // flood; once the log has none left to ship, all of them are in InfluxDB.
    await t.app.durableLog.flush();
    const stored = await eventually(async () => {
      if (t.app.durableLog.backlog().lines > 0) return undefined;
      const n = Number((await queryRows(t.influx, `SELECT count(moisture) FROM soil WHERE device = 'flood-1'`))[0]?.count ?? 0);
      return n > 0 ? n : undefined;
    }, 10_000, "flood-1's admitted readings shipped");
    expect(stored).toBeLessThanOrEqual(BURST + Math.ceil(elapsedS * 5) + 1);
  });

  it('drops the connection of a device when it is disabled and refuses its reconnects', async () => {
    const client = await device('dis-1');
    const admin = api(t, ADMIN_TOKEN);
    expect((await admin.post('/api/v1/devices/dis-1/disable')).statusCode).toBe(200);
    await closed(client);
    client.end(true);
    const before = await refusals('device_disabled');
    await expect(device('dis-1')).rejects.toThrow(/Bad username or password/);
    expect(await refusals('device_disabled')).toBe(before + 1);
    expect((await admin.post('/api/v1/devices/dis-1/enable')).statusCode).toBe(200);
    (await device('dis-1')).end(true);
  });

  it('rotates a secret: the live connection is dropped, the old secret refused at once, the new one works', async () => {
    const client = await device('rot-1');
    const rotated = await api(t, ADMIN_TOKEN).post('/api/v1/devices/rot-1/secret');
    expect(rotated.statusCode).toBe(200);
    const { secret } = rotated.json() as { secret: string };
    expect(secret).not.toBe(secrets['rot-1']);
    await closed(client);
    client.end(true);
    const before = await refusals('bad_credentials');
    await expect(device('rot-1')).rejects.toThrow(/Bad username or password/);
    expect(await refusals('bad_credentials')).toBe(before + 1);
    const fresh = await device('rot-1', secret);
    await publish(fresh, 'gs/rot-1/up', JSON.stringify({ seq: 1, moisture: 33 }), 1);
    fresh.end(true);
  });

  it('ingested nothing from the refused and the well-behaved device lost nothing', async () => {
    running = false;
    await background;
    expect(goodClosed).toBe(0);
    expect(goodAcked).toBeGreaterThan(8);
    await eventually(async () => {
      const rows = await queryRows(t.influx, `SELECT count(moisture) FROM soil WHERE device = 'good-1'`);
      return Number(rows[0]?.count) === goodAcked ? true : undefined;
    }, 5_000, `all ${goodAcked} readings of good-1 in InfluxDB`);
    expect(await queryRows(t.influx, `SELECT moisture FROM soil WHERE moisture = ${MARKER}`)).toEqual([]);
    expect(await queryRows(t.influx, `SELECT moisture FROM soil WHERE device = 'victim-2'`)).toEqual([]);
    expect(await metricValue(t, 'gs_readings_rejected_total', { reason: 'topic_not_allowed' })).toBeGreaterThanOrEqual(1);
  });
});
