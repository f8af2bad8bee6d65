import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { ADMIN_TOKEN, eventually, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const STEP = 15 * 60_000;
const SENSORS = ['s-a', 's-b'] as const;

/** A hand-watered lawn on loam (no valve, so no run moves the sensors) with two soil sensors. */
const city = stringify({
  version: 1,
  districts: [{ id: 'd1', name: '测试区', subDistricts: [{ id: 's1', name: '测试街道', communities: [{
    id: 'c1', name: '测试小区',
    zones: [{ id: 'z-two', name: '双探头草坪', plant: 'lawn', mode: 'manual', soil: 'loam' }],
    devices: SENSORS.map((id) => ({ id, kind: 'soil', zone: 'z-two', reportIntervalS: 900 })),
  }] }] }],
});

describe('a drifting sensor of a two-sensor zone, over the real app', () => {
  // The app's clock, moved a report interval per step: readings carry its time, as a device's would.
  let now = Date.parse('2026-07-10T00:00:00+08:00');
  const clock = { now: () => now };
  let t: TestApp;
  const clients = new Map<string, MqttClient>();
  let step = 0;
  const api = async (method: 'GET' | 'PUT', url: string, payload?: unknown, headers: Record<string, string> = {}) => {
    const res = await t.app.api.inject({ method, url, headers: { ...auth, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.json() as any };
  };
  /** One report of both sensors; waits until the zone has taken both. */
  const report = async (a: number, b: number) => {
    now += STEP;
    step++;
    const temperature = 24 + (step % 5) / 10; // alive, so neither is "stuck"
    for (const [id, moisture] of [['s-a', a], ['s-b', b + (step % 3) / 10]] as const) {
      await publish(clients.get(id)!, `gs/${id}/up`, JSON.stringify({ ts: now, seq: step, moisture, temperature }), 1);
    }
    await eventually(async () => {
      const sensors = (await api('GET', '/api/v1/zones/z-two/irrigation')).body.state.sensors as Record<string, { lastAt: number }>;
      return SENSORS.every((id) => sensors[id]?.lastAt === now) ? true : undefined;
    }, 5_000, 'both readings in the zone');
  };
  const alerts = async () => (await api('GET', '/api/v1/alerts?kind=sensor_disagreement&subject=z-two')).body as Array<{ state: string; message: string; details: Record<string, unknown> }>;
  const inputs = async () => (await api('GET', '/api/v1/zones/z-two/irrigation')).body.inputs as { counted: string[]; excluded: Array<{ deviceId: string; reason: string }> };

  beforeAll(async () => {
    t = await startTestApp({}, { app: { clock } });
    const imported = await api('PUT', '/api/v1/inventory', city, { 'content-type': 'application/yaml' });
    expect(imported.status).toBe(200);
    for (const c of imported.body.credentials as Array<{ deviceId: string; secret: string }>) {
      clients.set(c.deviceId, await connect(t.app.mqttPort, { clientId: c.deviceId, username: c.deviceId, password: c.secret }));
    }
    // Disagreement after 2 h instead of 12, so the test takes fewer reports.
    expect((await api('PUT', '/api/v1/zones/z-two/irrigation', { settings: { disagreeForS: 7200 } })).status).toBe(200);
  });
  afterAll(async () => {
    for (const c of clients.values()) c.end(true);
    await t?.stop();
  });

  it('counts both while they differ by their calibration only', async () => {
    for (let i = 0; i < 10; i++) await report(24.5, 23.5);
    expect(await alerts()).toEqual([]);
    expect((await inputs()).counted).toEqual(['s-a', 's-b']);
  });

  it('raises one sensor_disagreement once s-a has read 2.5 points more than that for 2 h, and leaves it out', async () => {
    for (let i = 0; i < 8; i++) await report(27, 23.5);
    expect(await alerts()).toEqual([]);
    for (let i = 0; i < 3; i++) await report(27, 23.5);
    const raised = await alerts();
    expect(raised).toEqual([expect.objectContaining({ state: 'firing' })]);
    expect(raised[0]!.message).toMatch(/^分区 双探头草坪\(z-two\) 两个土壤探头读数不一致：s-a 27 %，s-b 23\.\d %，相差 [\d.]+ 个百分点，比初次比对时多 [\d.]+，已持续 2 小时；两者读数都在壤土可能的范围内，采信较干的 s-b（分区不会缺水）：s-a 暂不计入分区湿度/);
    expect(raised[0]!.message).toMatch(/ \/ zone 双探头草坪 \(z-two\): soil sensors s-a \(27 %\) and s-b \(23\.\d %\) differ by [\d.]+ points, [\d.]+ more than when first compared, for 2 h; neither reads what loam cannot hold, so the drier s-b is trusted \(the zone is not starved\): s-a is left out/);
    expect(raised[0]!.details).toMatchObject({ distrusted: 's-a' });
    expect(await inputs()).toMatchObject({ counted: ['s-b'], excluded: [{ deviceId: 's-a', reason: 'disagrees' }] });
  });

  it('resolves it, and counts s-a again, once the two agree again (recalibrated)', async () => {
    for (let i = 0; i < 4; i++) await report(24.5, 23.5);
    const resolved = await eventually(async () => {
      const found = await alerts();
      return found[0]?.state === 'resolved' ? found : undefined;
    }, 5_000, 'the alert to resolve');
    expect(resolved).toHaveLength(1);
    expect((await inputs()).counted).toEqual(['s-a', 's-b']);
  });
});
