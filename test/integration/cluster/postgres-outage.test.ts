import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, eventually, startTestApp, type TestApp } from '../../helpers/app.ts';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { counterValue } from '../../helpers/cluster.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
/** A PUBACK that waited on the alert store would take its connect timeout (5 s) or forever. */
const PUBACK_WITHIN_MS = 2_000;

/**
 * A node with its alerts in PostgreSQL (GS_POSTGRES_URL) whose PostgreSQL stops under it: a
 * facility impact detected from readings meanwhile is held, not lost, and becomes its one
 * alert (with its work order) once PostgreSQL is back on the same data; the devices were
 * acknowledged throughout.
 */
describe('alert signals through a PostgreSQL outage', { timeout: 90_000 }, () => {
  let pg: TestPostgres;
  let t: TestApp;
  let device: MqttClient;
  let seq = 0;
  const send = async (fields: Record<string, number>): Promise<number> => {
    const started = Date.now();
    await publish(device, 'gs/tilt-o1/up', JSON.stringify({ ts: Date.now(), seq: ++seq, battery: 90, ...fields }), 1);
    return Date.now() - started;
  };
  const alerts = async () => (await t.app.api.inject({ method: 'GET', url: '/api/v1/alerts?kind=facility_impact', headers: auth })).json() as Array<Record<string, unknown>>;

  beforeAll(async () => {
    pg = await startTestPostgres();
    t = await startTestApp({ postgresUrl: await pg.createDatabase() });
    const secret = await t.register({ id: 'tilt-o1', kind: 'tilt', reportIntervalS: 60, place: { district: 'd-1', community: 'c-1', facility: 'pav-o1', facilityType: 'pavilion' } });
    const calibrated = await t.app.api.inject({ method: 'POST', url: '/api/v1/facilities/pav-o1/calibrate', headers: auth, payload: { pitch: 0.4, roll: -0.2 } });
    expect(calibrated.statusCode, calibrated.body).toBe(200);
    device = await connect(t.app.mqttPort, { clientId: 'tilt-o1', username: 'tilt-o1', password: secret });
  });
  afterAll(async () => {
    device?.end(true);
    await t?.stop();
    await pg?.stop();
  });

  it('holds the impact raised while PostgreSQL is down and applies it once, in order, when it is back; PUBACKs never wait', async () => {
    for (let i = 0; i < 4; i++) await send({ pitch: 0.4 + i * 0.01, roll: -0.2 });
    await t.app.health.monitor.settled();
    expect(await alerts()).toEqual([]);

    await pg.halt();
    const ackMs: number[] = [];
    ackMs.push(await send({ pitch: 0.45, roll: -0.2, shock: 5 }));
    ackMs.push(await send({ pitch: 0.45, roll: -0.2, shock: 6 }));
    for (let i = 0; i < 5; i++) ackMs.push(await send({ pitch: 0.45, roll: -0.2 }));
    // The store refuses the writes; the signals wait in the monitor's queue, counted.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(t.app.health.monitor.pendingSignals()).toBe(2);
    expect(await counterValue(t.app.metrics.alertSignalsPending)).toBe(2);
    expect((await t.app.api.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    expect(Math.max(...ackMs)).toBeLessThan(PUBACK_WITHIN_MS);

    await pg.restart();
    const raised = await eventually(async () => {
      const list = await alerts();
      return list.length > 0 && (list[0]!.details as { occurrences?: number }).occurrences === 2 ? list : undefined;
    }, 45_000, 'the held impact applied once PostgreSQL is back');
    expect(raised).toEqual([expect.objectContaining({ kind: 'facility_impact', subject: 'pav-o1', severity: 'critical', state: 'firing', communityId: 'c-1' })]);
    const orders = (await t.app.api.inject({ method: 'GET', url: '/api/v1/work-orders?community=c-1', headers: auth })).json() as unknown[];
    expect(orders).toHaveLength(1);
    expect(t.app.health.monitor.pendingSignals()).toBe(0);
    expect(await counterValue(t.app.metrics.alertSignalsDropped, { reason: 'refused' })).toBe(0);
  });
});

/**
 * The same outage with the node restarted before PostgreSQL is back: the held signals were on
 * the node's own SQLite (health/signal-spill.ts), so the node started again on the same data
 * directory applies them once PostgreSQL answers — the impact is one alert with its work order.
 */
describe('alert signals held through a PostgreSQL outage and a restart of the node', { timeout: 90_000 }, () => {
  let pg: TestPostgres;
  let t: TestApp | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'gs-app-spill-'));
  afterAll(async () => {
    await t?.stop();
    await pg?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const held = () => {
    const db = new Database(join(dataDir, 'greenspace.db'), { readonly: true });
    try {
      return (db.prepare('SELECT signal FROM held_alert_signals ORDER BY seq').all() as Array<{ signal: string }>).map((r) => JSON.parse(r.signal) as { action: string; kind: string });
    } finally {
      db.close();
    }
  };

  it('keeps the signals held during the outage on the node\'s disk and applies them after the restart, once PostgreSQL is back', async () => {
    pg = await startTestPostgres();
    const settings = { postgresUrl: await pg.createDatabase() };
    t = await startTestApp(settings, { dataDir });
    const secret = await t.register({ id: 'tilt-s1', kind: 'tilt', reportIntervalS: 60, place: { district: 'd-1', community: 'c-1', facility: 'pav-s1', facilityType: 'pavilion' } });
    expect((await t.app.api.inject({ method: 'POST', url: '/api/v1/facilities/pav-s1/calibrate', headers: auth, payload: { pitch: 0.4, roll: -0.2 } })).statusCode).toBe(200);
    const device = await connect(t.app.mqttPort, { clientId: 'tilt-s1', username: 'tilt-s1', password: secret });
    let seq = 0;
    const send = (fields: Record<string, number>) => publish(device, 'gs/tilt-s1/up', JSON.stringify({ ts: Date.now(), seq: ++seq, battery: 90, ...fields }), 1);
    for (let i = 0; i < 4; i++) await send({ pitch: 0.4 + i * 0.01, roll: -0.2 });
    await t.app.health.monitor.settled();
    expect(held()).toEqual([]);

    await pg.halt();
    await send({ pitch: 0.45, roll: -0.2, shock: 5 });
    await send({ pitch: 0.45, roll: -0.2, shock: 6 });
    await eventually(() => (t!.app.health.monitor.pendingSignals() === 2 ? true : undefined), 5_000, 'the impact signals held');
    // On disk as they are held, not only at an orderly stop (a kill -9 would leave them there too).
    expect(held()).toEqual([expect.objectContaining({ action: 'raise', kind: 'facility_impact' }), expect.objectContaining({ action: 'raise', kind: 'facility_impact' })]);

    device.end(true);
    await t.stop();
    t = undefined;
    await pg.restart();
    t = await startTestApp(settings, { dataDir });
    const alerts = async () => (await t!.app.api.inject({ method: 'GET', url: '/api/v1/alerts?kind=facility_impact', headers: auth })).json() as Array<Record<string, unknown>>;
    const raised = await eventually(async () => {
      const list = await alerts();
      return list.length > 0 && (list[0]!.details as { occurrences?: number }).occurrences === 2 ? list : undefined;
    }, 30_000, 'the held impact applied after the restart');
    expect(raised).toEqual([expect.objectContaining({ kind: 'facility_impact', subject: 'pav-s1', state: 'firing', communityId: 'c-1' })]);
    expect((await t.app.api.inject({ method: 'GET', url: '/api/v1/work-orders?community=c-1', headers: auth })).json()).toHaveLength(1);
    await t.app.health.monitor.settled();
    expect(held()).toEqual([]);
  });
});
