import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, eventually, queryRows, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { startSimValve } from './sim-valve.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
/** Fast settings so each scenario runs in seconds: every minute is a window, no debounce. */
// These specify the threshold controller's edge (start below low, stop at high); the predictive one is tested in test/unit/rules/irrigation.
const FAST = { controller: 'threshold' as const, debounceS: 0, ackTimeoutS: 1, ackRetries: 1, effectTimeoutS: 2, maxRunS: 120, minIntervalS: 3600 };

describe('irrigation over the real app', () => {
  let t: TestApp;
  const secrets = new Map<string, string>();
  const sensors = new Map<string, MqttClient>();
  let seq = 0;

  const api = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
    const res = await t.app.api.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.json() as any };
  };
  const zone = async (zoneId: string, mode: 'automatic' | 'manual', withValve: boolean, extra: Record<string, number> = {}) => {
    const place = { district: 'd1', community: 'c1', zone: zoneId, plant: 'lawn', mode };
    secrets.set(`soil-${zoneId}`, await t.register({ id: `soil-${zoneId}`, kind: 'soil', place }));
    if (withValve) secrets.set(`valve-${zoneId}`, await t.register({ id: `valve-${zoneId}`, kind: 'valve', place }));
    expect((await api('PUT', `/api/v1/zones/${zoneId}/irrigation`, { windows: ['* * * * *'], settings: { ...FAST, ...extra } })).status).toBe(200);
    const id = `soil-${zoneId}`;
    sensors.set(zoneId, await connect(t.app.mqttPort, { clientId: id, username: id, password: secrets.get(id) }));
  };
  const soil = (zoneId: string, moisture: number) =>
    publish(sensors.get(zoneId) as MqttClient, `gs/soil-${zoneId}/up`, JSON.stringify({ seq: ++seq, moisture, temperature: 21 }));
  const decisions = async (zoneId: string) => ((await api('GET', `/api/v1/zones/${zoneId}/decisions`)).body as Array<{ action: string; reason: string }>)
    .map((d) => `${d.action}:${d.reason}`).reverse();
  const signals = async (zoneId: string) => ((await api('GET', `/api/v1/zones/${zoneId}/signals`)).body as Array<{ action: string; kind: string }>)
    .map((s) => `${s.action}:${s.kind}`).reverse();

  beforeAll(async () => {
    t = await startTestApp();
    await zone('z-auto', 'automatic', true, { effectTimeoutS: 30 }); // its readings rise; no race with a busy machine
    await zone('z-noack', 'automatic', true);
    await zone('z-noeffect', 'automatic', true);
    await zone('z-manual', 'manual', false);
    await zone('z-late', 'automatic', true, { effectTimeoutS: 30 });
    await zone('z-skew', 'automatic', true);
  });
  afterAll(async () => {
    for (const c of sensors.values()) c.end(true);
    await t?.stop();
  });

  it('waters a dry zone: open command, ack, rising moisture, stop at high, all recorded', async () => {
    const valve = await startSimValve(t.app.mqttPort, 'valve-z-auto', secrets.get('valve-z-auto') as string, 'ack');
    await soil('z-auto', 14);
    await eventually(() => (valve.open ? true : undefined), 3_000, 'the valve to open');
    const [open] = valve.commands;
    expect(open).toMatchObject({ action: 'open', autoOffS: expect.any(Number) });
    // the bed gets wetter while the valve is open
    for (const m of [17, 21, 25, 29]) await soil('z-auto', m);
    expect(valve.open).toBe(true);
    await soil('z-auto', 31);
    await eventually(() => (valve.commands.length === 2 && !valve.open ? true : undefined), 3_000, 'the valve to close');
    expect(valve.commands.map((c) => c.action)).toEqual(['open', 'close']);
    await valve.stop();

    expect(await decisions('z-auto')).toEqual(['start:below_low', 'stop:reached_high']);
    const [stop] = (await api('GET', '/api/v1/zones/z-auto/decisions?action=stop')).body;
    expect(stop).toMatchObject({ mode: 'automatic', inputs: { moisture: 31, counted: ['soil-z-auto'], band: { low: 22, high: 30 }, inWindow: true } });
    expect(stop.durationS).toBeGreaterThan(0);
    expect(await signals('z-auto')).toEqual([]);

    const rows = await eventually(async () => {
      const r = await queryRows(t.influx, `SELECT * FROM watering WHERE zone = 'z-auto'`);
      return r.length === 2 ? r : undefined;
    }, 5_000, 'watering points');
    expect(rows).toEqual([
      expect.objectContaining({ district: 'd1', community: 'c1', zone: 'z-auto', mode: 'automatic', action: 'start', reason: 'below_low', moisture: 14 }),
      expect.objectContaining({ action: 'stop', reason: 'reached_high', moisture: 31, duration_s: expect.any(Number), volume_l: expect.any(Number) }),
    ]);
  });

  it('raises valve_no_ack when the valve never acknowledges, after one retry with the same id', async () => {
    const valve = await startSimValve(t.app.mqttPort, 'valve-z-noack', secrets.get('valve-z-noack') as string, 'silent');
    await soil('z-noack', 14);
    await eventually(async () => ((await signals('z-noack')).includes('raise:valve_no_ack') ? true : undefined), 5_000, 'valve_no_ack');
    // the open, its retry with the same id, and a last close in case only the acks were lost
    await eventually(() => (valve.commands.length === 3 ? true : undefined), 2_000, 'the last close');
    await valve.stop();
    expect(valve.commands.map((c) => c.action)).toEqual(['open', 'open', 'close']);
    expect(valve.commands[1]?.commandId).toBe(valve.commands[0]?.commandId);
    expect(await decisions('z-noack')).toEqual(['start:below_low', 'stop:valve_no_ack']);
    const [raised] = (await api('GET', '/api/v1/zones/z-noack/signals')).body;
    expect(raised).toMatchObject({ severity: 'critical', details: { attempts: 2, valveId: 'valve-z-noack' } });
  });

  it('raises valve_no_effect when the valve acks but moisture does not rise, and closes it', async () => {
    const valve = await startSimValve(t.app.mqttPort, 'valve-z-noeffect', secrets.get('valve-z-noeffect') as string, 'ack');
    await soil('z-noeffect', 14);
    await eventually(() => (valve.open ? true : undefined), 3_000, 'the valve to open');
    await soil('z-noeffect', 14.2); // a flicker, not a rise
    await eventually(async () => ((await signals('z-noeffect')).includes('raise:valve_no_effect') ? true : undefined), 6_000, 'valve_no_effect');
    await eventually(() => (valve.commands.at(-1)?.action === 'close' && !valve.open ? true : undefined), 3_000, 'the valve to close');
    await valve.stop();
    // once the close is acknowledged the zone is idle, still dry, and waits out the minimum interval
    expect(await decisions('z-noeffect')).toEqual(['start:below_low', 'stop:valve_no_effect', 'skip:min_interval']);
  });

  const staleRefusals = async (command: string): Promise<number> =>
    Number(new RegExp(`gs_valve_stale_refusals_total\\{command="${command}"\\} (\\d+)`).exec((await t.app.api.inject({ url: '/metrics' })).body)?.[1] ?? 0);

  it('keeps the valve closed when an old open reaches it after a newer close, and raises nothing for the refusal', async () => {
    const valve = await startSimValve(t.app.mqttPort, 'valve-z-late', secrets.get('valve-z-late') as string, 'ack');
    await soil('z-late', 14);
    await eventually(() => (valve.open ? true : undefined), 3_000, 'the valve to open');
    await soil('z-late', 31);
    await eventually(() => (valve.commands.length === 2 && !valve.open ? true : undefined), 3_000, 'the valve to close');
    const close = valve.commands[1] as { issuedAt: number };
    // A dead node's open, queued in its persistent session and delivered after the survivor's close.
    const late = { commandId: 'o-dead-node', action: 'open', autoOffS: 600, issuedAt: close.issuedAt - 1_000 };
    await t.app.broker.publish({ topic: 'gs/valve-z-late/down', payload: JSON.stringify(late), qos: 1, retain: false });
    await eventually(async () => ((await staleRefusals('late')) === 1 ? true : undefined), 3_000, 'the stale refusal to reach the engine');
    await valve.stop();
    expect(valve.refused.map((c) => c.commandId)).toEqual(['o-dead-node']);
    expect(valve.open).toBe(false);
    expect(await signals('z-late')).toEqual([]);
    expect(await decisions('z-late')).toEqual(['start:below_low', 'stop:reached_high']);
  });

  it('re-issues a command the valve refuses as stale once, then raises valve_no_ack saying so (a valve clock 20 min ahead)', async () => {
    const valve = await startSimValve(t.app.mqttPort, 'valve-z-skew', secrets.get('valve-z-skew') as string, 'ack', { clockOffsetMs: 20 * 60_000 });
    await soil('z-skew', 14);
    await eventually(async () => ((await signals('z-skew')).includes('raise:valve_no_ack') ? true : undefined), 5_000, 'valve_no_ack');
    await valve.stop();
    const [first, again] = valve.commands;
    expect(valve.commands.map((c) => c.action)).toEqual(['open', 'open']);
    expect(again?.commandId).not.toBe(first?.commandId); // a new id: an old queued copy's refusal is not the re-issue's
    expect(again?.issuedAt).toBeGreaterThanOrEqual(first?.issuedAt ?? Infinity);
    expect(valve.refused).toHaveLength(2);
    expect(valve.open).toBe(false);
    expect((await decisions('z-skew')).slice(0, 2)).toEqual(['start:below_low', 'stop:valve_refused']);
    const [raised] = (await api('GET', '/api/v1/zones/z-skew/signals')).body;
    expect(raised).toMatchObject({ details: { valveId: 'valve-z-skew', error: 'stale' } });
    expect([await staleRefusals('pending'), await staleRefusals('pending_again')]).toEqual([1, 1]);
  });

  it('turns a dry manual zone into a watering_needed signal, cleared when moisture recovers', async () => {
    await soil('z-manual', 15);
    await eventually(async () => ((await signals('z-manual')).length > 0 ? true : undefined), 3_000, 'a watering alert');
    expect(await signals('z-manual')).toEqual(['raise:watering_needed']);
    await soil('z-manual', 26);
    await eventually(async () => ((await signals('z-manual')).length > 1 ? true : undefined), 3_000, 'the alert to clear');
    expect(await signals('z-manual')).toEqual(['raise:watering_needed', 'clear:watering_needed']);
    expect(await decisions('z-manual')).toEqual(['alert:below_low', 'clear:moisture_recovered']);
    const rows = await eventually(async () => {
      const r = await queryRows(t.influx, `SELECT * FROM watering WHERE zone = 'z-manual'`);
      return r.length === 2 ? r : undefined;
    }, 5_000, 'manual watering points');
    expect(rows.map((r) => `${r.mode}:${r.action}:${r.reason}`)).toEqual(['manual:alert:below_low', 'manual:clear:moisture_recovered']);
  });

  it('lets an operator pause, skip and water now, recording who acted', async () => {
    expect((await api('POST', '/api/v1/zones/z-manual/water-now', {})).status).toBe(409); // a manual zone has no valve
    expect((await api('POST', '/api/v1/zones/nowhere/pause', { days: 1 })).status).toBe(404);
    const paused = await api('POST', '/api/v1/zones/z-auto/pause', { days: 2 });
    expect(paused.status).toBe(202);
    expect(paused.body.decisions[0]).toMatchObject({ action: 'operator', reason: 'pause', actor: 'admin' });
    expect((await api('POST', '/api/v1/zones/z-auto/pause', { days: 0 })).body.decisions[0]).toMatchObject({ reason: 'unpause' });
    expect((await api('POST', '/api/v1/zones/z-auto/skip-next', {})).body.decisions[0]).toMatchObject({ reason: 'skip_next', actor: 'admin' });

    const valve = await startSimValve(t.app.mqttPort, 'valve-z-auto', secrets.get('valve-z-auto') as string, 'ack');
    const now = await api('POST', '/api/v1/zones/z-auto/water-now', { durationS: 1 });
    expect(now.status).toBe(202);
    expect(now.body.decisions[0]).toMatchObject({ action: 'start', reason: 'operator_water_now', actor: 'admin', durationS: 1 });
    await eventually(() => (valve.commands.at(-1)?.action === 'close' ? true : undefined), 5_000, 'the operator run to end');
    await valve.stop();
    expect((await decisions('z-auto')).slice(-2)).toEqual(['start:operator_water_now', expect.stringMatching(/^stop:(max_run_time|reached_high)$/)]);
    expect((await t.app.api.inject({ method: 'POST', url: '/api/v1/zones/z-auto/pause', payload: { days: 1 } })).statusCode).toBe(401);
  });

  it('documents the zone routes in the OpenAPI description', async () => {
    const res = await t.app.api.inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const paths = Object.keys((res.json() as { paths: Record<string, unknown> }).paths);
    for (const p of ['decisions', 'signals', 'irrigation', 'water-now', 'skip-next', 'pause', 'forecast']) expect(paths).toContain(`/api/v1/zones/{id}/${p}`);
  });

  it('validates overrides', async () => {
    expect((await api('PUT', '/api/v1/zones/z-auto/irrigation', { windows: ['not a cron'] })).status).toBe(400);
    expect((await api('PUT', '/api/v1/zones/z-auto/irrigation', { band: { low: 30, high: 20 } })).status).toBe(400);
    expect((await api('PUT', '/api/v1/zones/z-auto/irrigation', { settings: { debounceS: -1 } })).status).toBe(400);
    const status = await api('GET', '/api/v1/zones/z-auto/irrigation');
    expect(status.body.effective).toMatchObject({ debounceS: { value: 0, source: 'zone_override' }, ackTimeoutS: { value: 1, source: 'zone_override' }, effectTimeoutS: { value: 30, source: 'zone_override' } });
  });

  it('shows one effective view of a zone\'s settings, each value with where it comes from', async () => {
    const { body } = await api('GET', '/api/v1/zones/z-auto/irrigation');
    // No second copy of the defaults beside the effective values.
    expect(Object.keys(body).sort()).toEqual(['effective', 'inputs', 'state', 'zone']);
    expect(body.zone).not.toHaveProperty('windows');
    expect(body.zone).not.toHaveProperty('band');
    expect(body.inputs).not.toHaveProperty('windows');
    expect(body.effective).toMatchObject({
      windows: { value: ['* * * * *'], source: 'zone_override' },
      // No band in the inventory nor a table in the deployment: FAO-56 for a loam lawn (13 + 0.6 × 15, 28 + 2).
      band: { value: { low: 22, high: 30 }, source: 'fao56', detail: 'FAO-56 for lawn on loam' },
      debounceS: { value: 0, source: 'zone_override' },
      minIntervalS: { value: 3600, source: 'zone_override' },
      freezeC: { value: 3, source: 'default' },
      timezone: { value: 'Asia/Shanghai', source: 'default' },
    });
    expect((await api('PUT', '/api/v1/zones/z-auto/irrigation', { band: { low: 22, high: 31 }, windows: ['* * * * *'], settings: { ...FAST, effectTimeoutS: 30 } })).status).toBe(200);
    expect((await api('GET', '/api/v1/zones/z-auto/irrigation')).body.effective.band).toEqual({ value: { low: 22, high: 31 }, source: 'zone_override' });
  });
});
