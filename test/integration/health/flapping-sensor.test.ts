import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, eventually, queryRows, startTestApp, UNLIMITED, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const place = { district: 'taobei', community: 'c-205', zone: 'z-9' };
// The shortest report interval a device may declare: the raise hold is then 2 × 10 s.
const INTERVAL_S = 10;
const STREAM_MS = 2 * INTERVAL_S * 1000 + 5_000;

// The chain from reading to message is proved over a manual clock in
// test/unit/alerts/flapping.test.ts; this adds the broker, a QoS 1 flood and the ingest.
describe('a soil probe flooding a 0..99 % sawtooth over real MQTT: one alert and one work order, not one per cycle', () => {
  let t: TestApp;
  const clients: MqttClient[] = [];
  const api = async (url: string) => {
    const res = await t.app.api.inject({ method: 'GET', url, headers: auth });
    expect(res.statusCode).toBe(200);
    return res.json() as unknown;
  };
  const device = async (id: string): Promise<MqttClient> => {
    const secret = await t.register({ id, kind: 'soil', reportIntervalS: INTERVAL_S, place });
    const client = await connect(t.app.mqttPort, { clientId: id, username: id, password: secret });
    clients.push(client);
    return client;
  };
  /** Wait until the ingest has handed `n` readings of the device to InfluxDB (so the rules saw them all). */
  const stored = (id: string, n: number) => eventually(async () => {
    const rows = await queryRows(t.influx, `SELECT count("moisture") FROM "soil" WHERE "device" = '${id}'`);
    return Number(rows[0]?.count ?? 0) >= n ? true : undefined;
  }, 20_000, `${n} readings of ${id} stored`);

  beforeAll(async () => {
    t = await startTestApp(UNLIMITED); // the stream is far above the per-device publish limit on purpose
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await t?.stop();
  });

  it('raises sensor_out_of_range once and keeps it, however many cycles follow', async () => {
    const probe = await device('soil-flap');
    const started = Date.now();
    let seq = 0;
    // Readings a few ms apart, cycling 0..99 % VWC (40 % of them implausible); QoS 1, ten in flight at a time.
    while (Date.now() - started < STREAM_MS) {
      await Promise.all(Array.from({ length: 10 }, () => {
        const n = seq++;
        return publish(probe, 'gs/soil-flap/up', JSON.stringify({ seq: n, moisture: n % 100, battery: 90 }), 1);
      }));
    }
    expect(seq).toBeGreaterThan(1_000); // ten cycles and more, not a handful
    await stored('soil-flap', seq);

    const alerts = (await api('/api/v1/alerts?subject=soil-flap')) as Array<{ id: number; kind: string; state: string }>;
    expect(alerts.map((a) => [a.kind, a.state])).toEqual([['sensor_out_of_range', 'firing']]);
    const one = (await api(`/api/v1/alerts/${alerts[0]!.id}`)) as { transitions: Array<{ to: string }>; workOrder: { state: string } | null };
    expect(one.transitions.map((x) => x.to)).toEqual(['firing']);
    expect(one.workOrder).toMatchObject({ state: 'open' });
    const orders = (await api('/api/v1/work-orders?community=c-205')) as Array<{ alertId: number }>;
    expect(orders.map((o) => o.alertId)).toEqual([alerts[0]!.id]);
  }, 90_000);

  it('a single implausible reading among good ones raises nothing', async () => {
    const probe = await device('soil-outlier');
    const values = Array.from({ length: 40 }, (_, i) => (i === 20 ? 95 : 30 + (i % 4)));
    for (const [seq, moisture] of values.entries()) await publish(probe, 'gs/soil-outlier/up', JSON.stringify({ seq, moisture, battery: 90 }), 1);
    await stored('soil-outlier', values.length);
    expect(await api('/api/v1/alerts?subject=soil-outlier')).toEqual([]);
    const orders = (await api('/api/v1/work-orders?community=c-205')) as unknown[];
    expect(orders).toHaveLength(1); // the flapping probe's only
  });
});
