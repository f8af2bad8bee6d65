import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, eventually, queryRows, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { startSimValve } from './sim-valve.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('irrigation across a restart, and rain', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gs-irrigation-'));
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const a of apps) await a.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const decisions = async (t: TestApp, zoneId: string) =>
    ((await t.app.api.inject({ url: `/api/v1/zones/${zoneId}/decisions`, headers: auth })).json() as Array<{ action: string; reason: string }>)
      .map((d) => `${d.action}:${d.reason}`).reverse();

  it('closes the run it was in after a restart, then waters afresh while the zone is still dry', async () => {
    const first = await startTestApp({}, { dataDir });
    const place = { district: 'd1', community: 'c1', zone: 'z-r', plant: 'shrubs', mode: 'automatic' };
    const soilSecret = await first.register({ id: 'soil-r', kind: 'soil', place });
    const valveSecret = await first.register({ id: 'valve-r', kind: 'valve', place });
    // a close must survive the valve reconnecting after the restart: retry often and long
    const settings = { controller: 'threshold' as const, debounceS: 0, ackTimeoutS: 0.3, ackRetries: 30, effectTimeoutS: 60, maxRunS: 600, minIntervalS: 3600 };
    const put = await first.app.api.inject({ method: 'PUT', url: '/api/v1/zones/z-r/irrigation', headers: auth, payload: { windows: ['* * * * *'], settings } });
    expect(put.statusCode).toBe(200);
    const valve = await startSimValve(first.app.mqttPort, 'valve-r', valveSecret, 'ack');
    const sensor = await connect(first.app.mqttPort, { clientId: 'soil-r', username: 'soil-r', password: soilSecret });
    await publish(sensor, 'gs/soil-r/up', JSON.stringify({ seq: 1, moisture: 12 }));
    await eventually(() => (valve.open ? true : undefined), 3_000, 'the valve to open');
    sensor.end(true);
    await valve.stop();
    await first.stop(); // mid-run

    const second = await startTestApp({ influxDb: first.config.influxDb }, { dataDir });
    apps.push(second);
    const again = await startSimValve(second.app.mqttPort, 'valve-r', valveSecret, 'ack');
    // the restored run is closed (the retried close reaches the reconnected valve), then a fresh run opens
    await eventually(() => (again.commands.some((c) => c.action === 'open') ? true : undefined), 5_000, 'a fresh open after the close');
    expect(again.commands[0]?.action).toBe('close');
    await again.stop();
    expect((await decisions(second, 'z-r')).slice(0, 3)).toEqual(['start:below_low', 'stop:restart', 'start:below_low']);
  });

  it('skips watering after rain measured by a gauge in the community', async () => {
    const t = apps[0] as TestApp;
    const place = { district: 'd2', community: 'c2', zone: 'z-rain', plant: 'lawn', mode: 'automatic' };
    const soilSecret = await t.register({ id: 'soil-rain', kind: 'soil', place });
    await t.register({ id: 'valve-rain', kind: 'valve', place });
    const gaugeSecret = await t.register({ id: 'gauge-c2', kind: 'rain', place: { district: 'd2', community: 'c2' } });
    await t.app.api.inject({ method: 'PUT', url: '/api/v1/zones/z-rain/irrigation', headers: auth, payload: { windows: ['* * * * *'], settings: { debounceS: 0 } } });
    const gauge = await connect(t.app.mqttPort, { clientId: 'gauge-c2', username: 'gauge-c2', password: gaugeSecret });
    await publish(gauge, 'gs/gauge-c2/up', JSON.stringify({ seq: 1, rainfall: 7.5 }));
    gauge.end(true);
    const sensor = await connect(t.app.mqttPort, { clientId: 'soil-rain', username: 'soil-rain', password: soilSecret });
    await publish(sensor, 'gs/soil-rain/up', JSON.stringify({ seq: 1, moisture: 12 }));
    sensor.end(true);
    await eventually(async () => ((await decisions(t, 'z-rain')).length > 0 ? true : undefined), 3_000, 'a decision');
    expect(await decisions(t, 'z-rain')).toEqual(['skip:rain']);
    const [skip] = (await t.app.api.inject({ url: '/api/v1/zones/z-rain/decisions', headers: auth })).json();
    expect(skip.inputs).toMatchObject({ rainMm: 7.5, moisture: 12 });
    const rows = await eventually(async () => {
      const r = await queryRows(t.influx, `SELECT * FROM watering WHERE zone = 'z-rain'`);
      return r.length > 0 ? r : undefined;
    }, 5_000, 'the skip in InfluxDB');
    expect(rows).toEqual([expect.objectContaining({ action: 'skip', reason: 'rain', moisture: 12, community: 'c2' })]);
  });
});
