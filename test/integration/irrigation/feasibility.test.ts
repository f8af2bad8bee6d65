import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { ADMIN_TOKEN, eventually, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const SAND_LOW_20_ZH = '区间下限 20 % 高于砂土的田间持水量 12 %（数小时内就会排水降到其下）：请把下限调到 12 % 以下，或更正土壤类型';
const SAND_LOW_20_EN = "low 20 % is above sand's field capacity 12 % (the soil drains below it within hours): lower the band's low under 12 %, or change the soil";
const SAND_LOW_14 = "区间下限 14 % 高于砂土的田间持水量 12 %（数小时内就会排水降到其下）：请把下限调到 12 % 以下，或更正土壤类型 / low 14 % is above sand's field capacity 12 % (the soil drains below it within hours): lower the band's low under 12 %, or change the soil";

/** One automatic lawn zone with a valve and a soil sensor, on the given soil. */
const city = (soil: 'loam' | 'sand') => stringify({
  version: 1,
  districts: [{ id: 'd1', name: '测试区', subDistricts: [{ id: 's1', name: '测试街道', communities: [{
    id: 'c1', name: '测试小区',
    zones: [{ id: 'z-rt', name: '中心草坪', plant: 'lawn', mode: 'automatic', soil, valve: 'v-rt' }],
    devices: [{ id: 'v-rt', kind: 'valve', zone: 'z-rt' }, { id: 's-rt', kind: 'soil', zone: 'z-rt' }],
  }] }] }],
});

describe('a zone found infeasible at run time, over the real app', () => {
  let t: TestApp;
  let sensor: MqttClient;
  let seq = 0;
  const api = async (method: 'GET' | 'PUT', url: string, payload?: unknown, headers: Record<string, string> = {}) => {
    const res = await t.app.api.inject({ method, url, headers: { ...auth, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.json() as any };
  };
  const importCity = (soil: 'loam' | 'sand') => api('PUT', '/api/v1/inventory', city(soil), { 'content-type': 'application/yaml' });
  const alerts = async () => (await api('GET', '/api/v1/alerts?kind=zone_infeasible&subject=z-rt')).body as Array<{ state: string; message: string; details: Record<string, unknown> }>;
  const reading = () => publish(sensor, 'gs/s-rt/up', JSON.stringify({ seq: ++seq, moisture: 10, temperature: 24 }), 1);

  beforeAll(async () => {
    t = await startTestApp();
    const imported = await importCity('loam');
    expect(imported.status).toBe(200);
    const secret = (imported.body.credentials as Array<{ deviceId: string; secret: string }>).find((c) => c.deviceId === 's-rt')!.secret;
    sensor = await connect(t.app.mqttPort, { clientId: 's-rt', username: 's-rt', password: secret });
  });
  afterAll(async () => {
    sensor?.end(true);
    await t?.stop();
  });

  it('refuses through the API a band the zone\'s soil cannot hold, in the import\'s words, Chinese then English', async () => {
    expect((await api('PUT', '/api/v1/zones/z-rt/irrigation', { band: { low: 20, high: 28 } })).status).toBe(200); // fine on loam
    expect(await importCity('sand')).toMatchObject({ status: 200 }); // the file's own band is the plant's, shifted for sand
    // The engine reads zones through a 2-second cache (irrigation/zone-source.ts).
    await eventually(async () => ((await api('GET', '/api/v1/zones/z-rt/irrigation')).body.zone.soil === 'sand' ? true : undefined), 5_000, 'the zone on sand');
    const refused = await api('PUT', '/api/v1/zones/z-rt/irrigation', { band: { low: 14, high: 20 } });
    expect(refused).toEqual({ status: 400, body: { error: 'bad_request', message: `band.low: ${SAND_LOW_14}` } });
  });

  it('raises one zone_infeasible alert saying what to change, and resolves it when the band fits', async () => {
    // The loam override 20–28 now sits on sand: the next evaluation finds it.
    const raised = await eventually(async () => {
      await reading();
      const found = await alerts();
      return found.length > 0 ? found : undefined;
    }, 10_000, 'the zone_infeasible alert');
    expect(raised).toEqual([expect.objectContaining({ state: 'firing', message: `分区 中心草坪(z-rt) 无法保持湿度区间：${SAND_LOW_20_ZH} / zone 中心草坪 (z-rt): ${SAND_LOW_20_EN}` })]);
    expect(raised[0]!.details).toMatchObject({ cause: 'band', code: 'low_at_field_capacity', soil: 'sand' });
    for (let i = 0; i < 3; i++) await reading();
    expect(await alerts()).toHaveLength(1); // one alert, however many evaluations
    // An operator's settings change, not a technician's visit: no work order (alerts/kinds.ts NO_WORK_ORDER_KINDS).
    expect((await api('GET', '/api/v1/work-orders')).body).toEqual([]);

    expect((await api('PUT', '/api/v1/zones/z-rt/irrigation', { band: { low: 8, high: 14 } })).status).toBe(200);
    const resolved = await eventually(async () => {
      const found = await alerts();
      return found[0]?.state === 'resolved' ? found : undefined;
    }, 5_000, 'the alert to resolve');
    expect(resolved).toHaveLength(1);
    const signals = ((await api('GET', '/api/v1/zones/z-rt/signals')).body as Array<{ action: string; kind: string }>).map((s) => `${s.action}:${s.kind}`).reverse();
    expect(signals).toEqual(['raise:zone_infeasible', 'clear:zone_infeasible']);
  });
});
