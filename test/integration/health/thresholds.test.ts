import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, eventually, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { loadRulesConfig } from '../../../health/rules-config.ts';
import type { DeviceCredential, ImportReport } from '../../../contracts/inventory.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const DEVICES = { 'pav-own': 't-own', 'pav-std': 't-std', 'bench-cfg': 't-bench' } as const;

/**
 * Three facilities leaning the same 1.2°: a pavilion with its own warning angle of 1° in the
 * inventory, a pavilion on its type's 2°, and a bench whose type the rules config moves from
 * 5° to 1°. `own: false` is the same city with the pavilion's override dropped.
 */
const city = (own: boolean) => ({
  version: 1,
  districts: [{
    id: 'taobei', name: '洮北区', subDistricts: [{
      id: 'mingren', name: '明仁街道', communities: [{
        id: 'c-201', name: '幸福小区',
        facilities: [
          { id: 'pav-own', name: '东亭', type: 'pavilion', baseline: { pitch: 0, roll: 0 }, ...(own ? { thresholds: { warningDeg: 1, criticalDeg: 4 } } : {}) },
          { id: 'pav-std', name: '西亭', type: 'pavilion', baseline: { pitch: 0, roll: 0 } },
          { id: 'bench-cfg', name: '座椅', type: 'bench', baseline: { pitch: 0, roll: 0 } },
        ],
        devices: Object.entries(DEVICES).map(([facility, id]) => ({ id, kind: 'tilt', facility, reportIntervalS: 10 })),
      }],
    }],
  }],
});

describe('thresholds an operator sets: the inventory per facility, GS_RULES_CONFIG per type, over real MQTT', () => {
  let t: TestApp;
  let configDir: string;
  const clients = new Map<string, MqttClient>();
  let seq = 0;
  // Readings step one report interval (10 s) from a minute ago, so a level's hold (3 readings
  // over ≥ 2 intervals) is met without waiting, and no clock skew is suspected.
  const t0 = Date.now() - 60_000;
  const api = async (method: 'GET' | 'PUT', url: string, payload?: object) => {
    const res = await t.app.api.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
    return { status: res.statusCode, body: res.json() };
  };
  /** Every device reports `deg` of pitch, one report interval after its previous reading. */
  const lean = async (deg: number) => {
    const i = seq++;
    for (const [id, client] of clients) await publish(client, `gs/${id}/up`, JSON.stringify({ ts: t0 + i * 10_000, seq: i + 1, pitch: deg, roll: 0, battery: 90 }), 1);
  };
  const tiltAlerts = async () => ((await api('GET', '/api/v1/alerts?kind=facility_tilt')).body as Array<Record<string, unknown>>)
    .map((a) => [a.subject, a.severity, a.state, a.resolvedBy ?? null])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));

  beforeAll(async () => {
    configDir = mkdtempSync(join(tmpdir(), 'gs-rules-'));
    const file = join(configDir, 'rules.yaml');
    writeFileSync(file, 'facilityHealth:\n  byType:\n    bench: { warningDeg: 1, criticalDeg: 3, hysteresisDeg: 0.3 }\nworkOrderSlaS: { critical: 3600, warning: 7200 }\n');
    t = await startTestApp({}, { app: { rules: loadRulesConfig({ GS_RULES_CONFIG: file }) } });
    const imported = await api('PUT', '/api/v1/inventory', city(true));
    expect(imported.status).toBe(200);
    for (const { deviceId, secret } of (imported.body as { credentials: DeviceCredential[] }).credentials) {
      clients.set(deviceId, await connect(t.app.mqttPort, { clientId: deviceId, username: deviceId, password: secret }));
    }
    expect([...clients.keys()].sort()).toEqual(['t-bench', 't-own', 't-std']);
  });
  afterAll(async () => {
    for (const client of clients.values()) client.end(true);
    await t?.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('alerts the pavilion whose inventory override lowers its warning angle, and the bench whose type the config lowered; not the pavilion on the default', async () => {
    for (let i = 0; i < 3; i++) await lean(1.2);
    const alerts = await eventually(async () => {
      const list = await tiltAlerts();
      return list.length === 2 ? list : undefined;
    }, 5_000, 'two tilt alerts');
    expect(alerts).toEqual([['bench-cfg', 'warning', 'firing', null], ['pav-own', 'warning', 'firing', null]]);
    const [own] = (await api('GET', '/api/v1/alerts?kind=facility_tilt&subject=pav-own')).body as Array<{ message: string; details: Record<string, unknown> }>;
    expect(own).toMatchObject({ message: '凉亭 pav-own 偏离基准倾斜 1.2°（警告阈值 1°） / pavilion pav-own: tilted 1.2° from its baseline (warning at 1°)', details: { tiltDeg: 1.2, warningDeg: 1, criticalDeg: 4 } });
  });

  it('shows each facility\'s effective thresholds and where they come from, to the tokens of its district only', async () => {
    const thresholds = async (id: string, token = ADMIN_TOKEN) => {
      const res = await t.app.api.inject({ url: `/api/v1/facilities/${id}/thresholds`, headers: { authorization: `Bearer ${token}` } });
      return { status: res.statusCode, body: res.json() as Record<string, unknown> };
    };
    expect(await thresholds('pav-own')).toEqual({ status: 200, body: {
      facilityId: 'pav-own', type: 'pavilion', source: 'facility', warningDeg: 1, criticalDeg: 4, hysteresisDeg: 0.5, impactDeltaDeg: 2, shockG: 2, settlementDegPerDay: 0.2, baseline: { pitch: 0, roll: 0 },
    } });
    expect((await thresholds('pav-std')).body).toMatchObject({ source: 'type', warningDeg: 2, criticalDeg: 5 });
    // The bench's type, as GS_RULES_CONFIG set it; what the config left out stays the code's.
    expect((await thresholds('bench-cfg')).body).toMatchObject({ type: 'bench', source: 'type', warningDeg: 1, criticalDeg: 3, hysteresisDeg: 0.3, impactDeltaDeg: 4, shockG: 4 });
    expect((await thresholds('nope')).status).toBe(404);

    const token = async (body: object) => ((await t.app.api.inject({ method: 'POST', url: '/api/v1/tokens', headers: auth, payload: body })).json() as { secret: string }).secret;
    const cityViewer = await token({ name: 'city authority', role: 'viewer', districts: ['taobei'] });
    const elsewhere = await token({ name: 'other district', role: 'technician', districts: ['baicheng'] });
    expect((await thresholds('pav-own', cityViewer)).status).toBe(200);
    expect(await thresholds('pav-own', elsewhere)).toEqual({ status: 404, body: { error: 'not_found', message: 'no facility pav-own' } });
    // Nor may that technician recalibrate it.
    const calibrate = await t.app.api.inject({ method: 'POST', url: '/api/v1/facilities/pav-own/calibrate', headers: { authorization: `Bearer ${elsewhere}` }, payload: { pitch: 3, roll: 3 } });
    expect(calibrate.statusCode).toBe(404);
    expect((await thresholds('pav-own')).body).toMatchObject({ baseline: { pitch: 0, roll: 0 } });
  });

  it('gives their work orders the configured SLA (warning: 2 h instead of 24 h)', async () => {
    const orders = (await api('GET', '/api/v1/work-orders?community=c-201')).body as Array<{ severity: string; createdAt: number; dueAt: number }>;
    expect(orders).toHaveLength(2);
    for (const wo of orders) expect({ severity: wo.severity, slaMs: wo.dueAt - wo.createdAt }).toEqual({ severity: 'warning', slaMs: 7_200_000 });
  });

  it('returns the pavilion to its type\'s angle once a re-import drops the override, without a restart', async () => {
    const reimported = await api('PUT', '/api/v1/inventory', city(false));
    expect(reimported.status).toBe(200);
    expect((reimported.body as { report: ImportReport }).report.changes).toEqual([
      { table: 'facilities', key: 'pav-own', action: 'updated', columns: ['tilt_warning_deg', 'tilt_critical_deg'] },
    ]);
    // Still 1.2°: below the pavilion's 2° (less its 0.5° hysteresis), so the warning clears after its hold.
    for (let i = 0; i < 3; i++) await lean(1.2);
    const alerts = await eventually(async () => {
      const list = await tiltAlerts();
      return list.some((a) => a[0] === 'pav-own' && a[2] === 'resolved') ? list : undefined;
    }, 5_000, 'the pavilion\'s tilt alert to clear');
    expect(alerts).toEqual([['bench-cfg', 'warning', 'firing', null], ['pav-own', 'warning', 'resolved', 'system']]);
    const res = await t.app.api.inject({ url: '/api/v1/facilities/pav-own/thresholds', headers: auth });
    expect(res.json()).toMatchObject({ source: 'type', warningDeg: 2, criticalDeg: 5 });
  });
});
