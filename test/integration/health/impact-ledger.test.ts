import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, eventually, queryRows, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('a facility impact over real MQTT: one alert, a work order closed out, every transition in InfluxDB', () => {
  let t: TestApp;
  let device: MqttClient;
  let seq = 0;
  // People act with their own tokens: 整改销号 refuses a verify by whoever entered the fix.
  const people: Record<string, { authorization: string }> = {};
  const api = async (method: 'GET' | 'POST', url: string, payload?: object, as?: 'op-zhao' | 'tech-wang') => {
    const res = await t.app.api.inject({ method, url, headers: as ? people[as]! : auth, ...(payload ? { payload } : {}) });
    return { status: res.statusCode, body: String(res.headers['content-type'] ?? '').includes('json') ? res.json() : res.body };
  };
  const send = (fields: Record<string, number>) => publish(device, 'gs/tilt-p1/up', JSON.stringify({ ts: Date.now(), seq: ++seq, battery: 90, ...fields }), 1);

  beforeAll(async () => {
    t = await startTestApp();
    const secret = await t.register({ id: 'tilt-p1', kind: 'tilt', reportIntervalS: 60, place: { district: 'taobei', community: 'c-101', facility: 'pav-7', facilityType: 'pavilion' } });
    device = await connect(t.app.mqttPort, { clientId: 'tilt-p1', username: 'tilt-p1', password: secret });
    for (const [name, role] of [['op-zhao', 'operator'], ['tech-wang', 'technician']] as const) {
      const res = await t.app.api.inject({ method: 'POST', url: '/api/v1/tokens', headers: auth, payload: { name, role } });
      people[name] = { authorization: `Bearer ${(res.json() as { secret: string }).secret}` };
    }
  });
  afterAll(async () => {
    device?.end(true);
    await t?.stop();
  });

  it('calibrates the facility through the API', async () => {
    expect((await api('POST', '/api/v1/facilities/nope/calibrate', { pitch: 0, roll: 0 })).status).toBe(404);
    expect((await api('POST', '/api/v1/facilities/pav-7/calibrate')).status).toBe(409); // no body: no reading yet, no angles given
    expect((await api('POST', '/api/v1/facilities/pav-7/calibrate', { pitch: 0.4 })).status).toBe(400);
    const res = await api('POST', '/api/v1/facilities/pav-7/calibrate', { pitch: 0.4, roll: -0.2, by: 'installer-li' });
    expect(res).toEqual({ status: 200, body: { facilityId: 'pav-7', baselinePitch: 0.4, baselineRoll: -0.2, by: 'installer-li' } });
    expect(t.app.devices.get('tilt-p1')).toMatchObject({ baselinePitch: 0.4, baselineRoll: -0.2 });
  });

  it('raises exactly one alert and one work order for an impact, however many shocks follow', async () => {
    for (let i = 0; i < 4; i++) await send({ pitch: 0.4 + i * 0.01, roll: -0.2 });
    expect((await api('GET', '/api/v1/alerts')).body).toEqual([]);
    await send({ pitch: 0.45, roll: -0.2, shock: 5 });
    await send({ pitch: 0.45, roll: -0.2, shock: 6 });
    const alerts = await eventually(async () => {
      const list = (await api('GET', '/api/v1/alerts?active=true')).body as Array<Record<string, unknown>>;
      return list.length > 0 && (list[0]!.details as { occurrences?: number }).occurrences === 2 ? list : undefined;
    }, 5_000, 'the impact alert');
    expect(alerts).toEqual([expect.objectContaining({ kind: 'facility_impact', subject: 'pav-7', severity: 'critical', state: 'firing', communityId: 'c-101', districtId: 'taobei' })]);
    const orders = (await api('GET', '/api/v1/work-orders?community=c-101')).body as Array<Record<string, unknown>>;
    expect(orders).toEqual([expect.objectContaining({ alertId: alerts[0]!.id, state: 'open', severity: 'critical', overdue: false })]);
  });

  it('walks the alert and its work order to the end through the API, with every transition in InfluxDB', async () => {
    const [alert] = (await api('GET', '/api/v1/alerts?kind=facility_impact')).body as Array<{ id: number }>;
    const [wo] = (await api('GET', `/api/v1/work-orders?state=open`)).body as Array<{ id: number }>;
    expect((await api('POST', `/api/v1/alerts/${alert!.id}/ack`, { by: 'op-zhao', note: 'dispatching' }, 'op-zhao')).body).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'op-zhao' });
    expect((await api('POST', `/api/v1/alerts/${alert!.id}/comments`, { by: 'op-zhao', text: 'CCTV shows a delivery van' }, 'op-zhao')).status).toBe(201);
    // Damage: no manual resolve without a note, and not while the work order is open.
    expect((await api('POST', `/api/v1/alerts/${alert!.id}/resolve`, { by: 'op-zhao' })).status).toBe(400);
    expect((await api('POST', `/api/v1/alerts/${alert!.id}/resolve`, { by: 'op-zhao', note: 'looks fine' })).status).toBe(409);
    // Readings recover; the facility stays flagged.
    await send({ pitch: 0.41, roll: -0.2 });
    expect((await api('POST', `/api/v1/work-orders/${wo!.id}/verify`, { by: 'op-zhao' })).status).toBe(409);
    expect((await api('POST', `/api/v1/work-orders/${wo!.id}/assign`, { by: 'op-zhao', assignee: 'tech-wang' }, 'op-zhao')).body).toMatchObject({ state: 'assigned', assignee: 'tech-wang' });
    expect((await api('POST', `/api/v1/work-orders/${wo!.id}/accept`, { by: 'tech-wang' }, 'tech-wang')).body).toMatchObject({ state: 'accepted' });
    expect((await api('POST', `/api/v1/work-orders/${wo!.id}/resolve`, { by: 'tech-wang', note: 'replaced a cracked brace', photoUrl: 'https://photos.example/pav-7.jpg' }, 'tech-wang')).body)
      .toMatchObject({ state: 'resolved', resolution: 'replaced a cracked brace' });
    expect((await api('GET', `/api/v1/alerts/${alert!.id}`)).body).toMatchObject({ state: 'acknowledged' });
    expect((await api('POST', `/api/v1/work-orders/${wo!.id}/verify`, { by: 'op-zhao', note: 'checked on site' }, 'op-zhao')).body).toMatchObject({ state: 'closed', closedBy: 'op-zhao' });

    const detail = (await api('GET', `/api/v1/alerts/${alert!.id}`)).body;
    expect(detail).toMatchObject({
      state: 'resolved', resolvedBy: 'op-zhao', comments: [expect.objectContaining({ text: 'CCTV shows a delivery van' })],
      workOrder: expect.objectContaining({ state: 'closed' }),
    });
    expect((detail.transitions as Array<{ to: string }>).map((x) => x.to)).toEqual(['firing', 'acknowledged', 'resolved']);
    const history = (await api('GET', `/api/v1/work-orders/${wo!.id}`)).body.history as Array<{ action: string; by: string }>;
    expect(history.map((h) => `${h.action}:${h.by}`)).toEqual(['open:system', 'assign:op-zhao', 'accept:tech-wang', 'resolve:tech-wang', 'verify:op-zhao']);

    const rows = await eventually(async () => {
      const r = await queryRows(t.influx, `SELECT "state", "message", "severity", "community", "district" FROM "alert" WHERE "subject" = 'pav-7' AND "kind" = 'facility_impact'`);
      return r.length >= 3 ? r : undefined;
    }, 5_000, 'alert transitions in InfluxDB');
    expect(rows.map((r) => r.state)).toEqual(['firing', 'acknowledged', 'resolved']);
    expect(rows.every((r) => r.severity === 'critical' && r.community === 'c-101' && r.district === 'taobei')).toBe(true);
    expect(String(rows[2]!.message)).toContain('replaced a cracked brace');
  });

  it('exports the ledger as CSV and guards every route', async () => {
    const csv = await t.app.api.inject({ url: '/api/v1/work-orders.csv?community=c-101', headers: auth });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/,facility_impact,pav-7,closed,critical,taobei,c-101,.*,tech-wang,.*,op-zhao,false,replaced a cracked brace,https:\/\/photos.example\/pav-7.jpg$/);
    const paths = Object.keys((await t.app.api.inject({ url: '/docs/json' })).json().paths);
    expect(paths).toEqual(expect.arrayContaining(['/api/v1/alerts/{id}/ack', '/api/v1/work-orders/{id}/verify', '/api/v1/facilities/{id}/calibrate', '/api/v1/scorecard.csv']));
    for (const url of ['/api/v1/alerts', '/api/v1/work-orders', '/api/v1/work-orders.csv', '/api/v1/scorecard?month=2026-10']) {
      expect((await t.app.api.inject({ url })).statusCode).toBe(401);
    }
  });
});
