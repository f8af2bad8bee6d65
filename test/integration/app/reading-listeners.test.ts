import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { eventually, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';

/**
 * Each reading listener runs in its own guard: a throw in one (the health monitor) is logged
 * and counted with the feature's name, and the next (irrigation) still gets the reading.
 * (They once ran in one loop inside one try/catch, and such a throw skipped irrigation.)
 */
describe('reading listeners in the running app', () => {
  let t: TestApp;
  let sensor: MqttClient;
  let seq = 0;
  const soil = (moisture: number) => publish(sensor, 'gs/soil-l1/up', JSON.stringify({ seq: ++seq, moisture, temperature: 20 }));
  /** What the irrigation engine last folded into the zone's moisture (the mean of its fresh sensors). */
  const zoneMoisture = (): number | undefined => t.app.irrigation.status('z-l1')?.inputs.moisture ?? undefined;
  const errorsCounted = async (feature: string): Promise<number> => {
    const text = await (await t.app.api.inject({ method: 'GET', url: '/metrics' })).body;
    const line = text.split('\n').find((l) => l.startsWith(`gs_listener_errors_total{feature="${feature}"}`));
    return line ? Number(line.split(' ')[1]) : 0;
  };

  beforeAll(async () => {
    t = await startTestApp();
    const place = { district: 'd1', community: 'c1', zone: 'z-l1', plant: 'lawn', mode: 'automatic' };
    const secret = await t.register({ id: 'soil-l1', kind: 'soil', place });
    sensor = await connect(t.app.mqttPort, { clientId: 'soil-l1', username: 'soil-l1', password: secret });
  });
  afterAll(async () => {
    sensor?.end(true);
    await t?.stop();
  });

  it('calls health before irrigation, each under its feature name', () => {
    expect(t.app.readings.names()).toEqual(['health', 'irrigation']);
  });

  it('still feeds irrigation when the health monitor throws, and counts the throw under "health"', async () => {
    const monitor = t.app.health.monitor;
    const real = monitor.onReading;
    monitor.onReading = () => { throw new Error('planted failure in the health monitor'); };
    try {
      await soil(27.5);
      await eventually(async () => (zoneMoisture() === 27.5 ? true : undefined), 10_000, 'irrigation to see the reading');
      expect(await errorsCounted('health')).toBe(1);
      expect(await errorsCounted('irrigation')).toBe(0);
    } finally {
      monitor.onReading = real;
    }
  });

  it('runs a later listener after one that throws, and ends a subscription when asked', async () => {
    const seen: number[] = [];
    const stopBoom = t.app.readings.add('boom', () => { throw new Error('planted'); });
    const stopAfter = t.app.readings.add('after', (reading) => { seen.push(Number(reading.fields.moisture)); });
    await soil(26);
    await eventually(() => (seen.length === 1 ? true : undefined), 10_000, 'the listener after the throwing one');
    expect(seen).toEqual([26]);
    expect(await errorsCounted('boom')).toBe(1);
    stopBoom();
    stopAfter();
    await soil(25);
    await eventually(async () => (zoneMoisture() === 25 ? true : undefined), 10_000, 'irrigation to see the next reading');
    expect(seen).toEqual([26]);
    expect(t.app.readings.names()).toEqual(['health', 'irrigation']);
  });
});
