import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, countPoints, eventually, queryRows, startTestApp, type TestApp } from '../helpers/app.ts';
import { INFLUX_APIS, influxServer, type InfluxServer } from '../helpers/influx-server.ts';
import { connect, mosquittoPub, publish } from '../helpers/mqtt.ts';

// v1: the real influxd 1.6; v2: the 2.x stand-in over it (the app makes the DBRP mapping its queries read).
describe.each(INFLUX_APIS)('walking skeleton: device → broker → ingest → InfluxDB (%s write API)', (api) => {
  let t: TestApp;
  let server: InfluxServer;
  let secret: string;
  let otherSecret: string;

  beforeAll(async () => {
    server = await influxServer(api);
    t = await startTestApp(server.overrides);
    secret = await t.register({ id: 'soil-001', kind: 'soil', place: { district: 'taobei', community: 'c-001', zone: 'z-001', plant: 'lawn' } });
    otherSecret = await t.register({ id: 'soil-002', kind: 'soil', place: { district: 'taobei', community: 'c-001', zone: 'z-002' } });
  });
  afterAll(async () => {
    await t?.stop();
    await server?.close();
  });

  it('stores a QoS 1 reading from mqtt.js with its registry tags and float fields', async () => {
    const client = await connect(t.app.mqttPort, { clientId: 'soil-001', username: 'soil-001', password: secret });
    const ts = Date.now() - 1_000;
    await publish(client, 'gs/soil-001/up', JSON.stringify({ ts, seq: 1, moisture: 23, temperature: '18.5', battery: 87 }), 1);
    client.end();
    const rows = await eventually(async () => {
      const r = await queryRows(t.influx, `SELECT * FROM soil WHERE device = 'soil-001'`);
      // Each field is its own series in InfluxDB 1.x: a query racing the write may see part of the point.
      return r.length > 0 && ['moisture', 'temperature', 'battery'].every((f) => r[0]![f] !== null) ? r : undefined;
    });
    expect(rows).toEqual([
      expect.objectContaining({ time: ts, district: 'taobei', community: 'c-001', zone: 'z-001', device: 'soil-001', plant: 'lawn', moisture: 23, temperature: 18.5, battery: 87 }),
    ]);
    const fieldTypes = await queryRows(t.influx, 'SHOW FIELD KEYS FROM soil');
    for (const row of fieldTypes) expect(row.fieldType).toBe('float');
    // v2: the app made the DBRP mapping its queries read, and wrote through the native API.
    if (server.standin) {
      expect(server.standin.mappings()).toEqual([expect.objectContaining({ database: t.config.influxDb, retention_policy: 'autogen', default: true })]);
      expect(server.standin.requests()['POST /write']).toBeUndefined();
    }
  });

  // How fast a reading is stored is measured by the bench (BENCHMARKS.md, "publish → stored",
  // p99 ≤ 100 ms at 5,000/s) on a quiet machine; a wall-clock bound here measured the load of
  // the shared CI machine (spawning mosquitto_pub alone can take a second), so this waits for
  // the reading with a deadline and checks it was stamped on its arrival during this test.
  it('stores a reading published with mosquitto_pub, stamped with its arrival', async () => {
    const started = Date.now();
    const result = await mosquittoPub(['-h', '127.0.0.1', '-p', String(t.app.mqttPort), '-i', 'soil-002', '-u', 'soil-002', '-P', otherSecret,
      '-q', '1', '-t', 'gs/soil-002/up', '-m', JSON.stringify({ seq: 7, moisture: 31.5 })]);
    const acknowledged = Date.now();
    expect(result).toEqual({ code: 0, stderr: '' });
    const rows = await eventually(async () => {
      const r = await queryRows(t.influx, `SELECT moisture, zone FROM soil WHERE device = 'soil-002'`);
      return r.length > 0 ? r : undefined;
    }, 10_000, 'the mosquitto_pub reading in InfluxDB');
    expect(rows).toEqual([expect.objectContaining({ moisture: 31.5, zone: 'z-002' })]);
    // No ts in the payload: the app stamps the reading when it arrives, between the publish and its PUBACK.
    expect(rows[0]!.time).toBeGreaterThanOrEqual(started);
    expect(rows[0]!.time).toBeLessThanOrEqual(acknowledged);
  });

  it('refuses a wrong password, an unknown device and a mismatched client id', async () => {
    await expect(connect(t.app.mqttPort, { clientId: 'soil-001', username: 'soil-001', password: 'wrong' })).rejects.toThrow(/Bad username or password/i);
    await expect(connect(t.app.mqttPort, { clientId: 'ghost', username: 'ghost', password: 'x' })).rejects.toThrow(/Bad username or password/i);
    await expect(connect(t.app.mqttPort, { clientId: 'other', username: 'soil-001', password: secret })).rejects.toThrow(/Identifier rejected/i);
    const mosq = await mosquittoPub(['-h', '127.0.0.1', '-p', String(t.app.mqttPort), '-i', 'soil-001', '-u', 'soil-001', '-P', 'nope', '-t', 'gs/soil-001/up', '-m', '{"moisture":5}']);
    expect(mosq.code).not.toBe(0);
    const metrics = (await t.app.api.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/gs_mqtt_auth_failures_total\{reason="bad_credentials"\} [3-9]/);
    expect(metrics).toMatch(/gs_mqtt_auth_failures_total\{reason="client_id_mismatch"\} 1/);
  });

  it("closes the connection of a device publishing to another device's topic and stores nothing", async () => {
    const client = await connect(t.app.mqttPort, { clientId: 'soil-001', username: 'soil-001', password: secret });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish('gs/soil-002/up', JSON.stringify({ seq: 99, moisture: 99 }), { qos: 1 });
    await closed;
    client.end(true);
    // "Nothing stored" cannot be waited for: the publish was refused before ingest (the close
    // follows the refusal), and these 300 ms are room for a write that should not exist.
    await new Promise((r) => setTimeout(r, 300));
    const rows = await queryRows(t.influx, `SELECT moisture FROM soil WHERE device = 'soil-002' AND moisture = 99`);
    expect(rows).toEqual([]);
    expect((await t.app.api.inject({ url: '/metrics' })).body).toMatch(/gs_mqtt_auth_failures_total\{reason="publish_denied"\} 1/);
  });

  it('serves health, readiness and metrics', async () => {
    expect((await t.app.api.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.api.inject({ url: '/readyz' })).json()).toEqual({ ready: true, checks: { influxdb: true, broker: true, durableLog: true } });
    const metrics = (await t.app.api.inject({ url: '/metrics' })).body;
    for (const name of ['gs_mqtt_messages_received_total', 'gs_readings_accepted_total', 'gs_readings_rejected_total', 'gs_influx_points_written_total',
      'gs_influx_write_errors_total', 'gs_influx_write_duration_seconds_bucket', 'gs_mqtt_connected_clients']) {
      expect(metrics).toContain(name);
    }
    expect(await countPoints(t.influx, 'soil', 'moisture')).toBe(2);
  });

  it('guards registration with the admin token and validates the body', async () => {
    const body = { id: 'soil-003', kind: 'soil' };
    expect((await t.app.api.inject({ method: 'POST', url: '/api/v1/devices', payload: body })).statusCode).toBe(401);
    expect((await t.app.api.inject({ method: 'POST', url: '/api/v1/devices', headers: { authorization: 'Bearer nope' }, payload: body })).statusCode).toBe(401); // unknown token: RFC 6750 invalid_token
    const bad = await t.app.api.inject({ method: 'POST', url: '/api/v1/devices', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { id: 'a/b', kind: 'lamp' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues.map((i: { path: string }) => i.path).sort()).toEqual(['id', 'kind']);
    const dup = await t.app.api.inject({ method: 'POST', url: '/api/v1/devices', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { id: 'soil-001', kind: 'soil' } });
    expect(dup.statusCode).toBe(409);
  });
});
