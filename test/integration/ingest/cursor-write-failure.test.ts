import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countPoints, eventually, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';

describe('the durable log cursor cannot be written (a full disk, a broken data dir)', () => {
  let t: TestApp;
  let secret: string;
  beforeAll(async () => {
    t = await startTestApp();
    secret = await t.register({ id: 'soil-c1', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
  });
  afterAll(async () => t?.stop());

  it('keeps the process up and keeps shipping; only the saved position lags', async () => {
    // The cursor is written to cursor.json.tmp, then renamed: a directory there makes every write fail.
    mkdirSync(join(t.dataDir, 'durable-log', 'cursor.json.tmp'));
    const client = await connect(t.app.mqttPort, { clientId: 'soil-c1', username: 'soil-c1', password: secret });
    const base = Date.now() - 60_000;
    await publish(client, 'gs/soil-c1/up', JSON.stringify({ ts: base, seq: 1, moisture: 20 }), 1);
    await eventually(async () => ((await countPoints(t.influx, 'soil', 'moisture')) === 1 ? true : undefined), 5_000, 'the first point');
    await publish(client, 'gs/soil-c1/up', JSON.stringify({ ts: base + 1_000, seq: 2, moisture: 21 }), 1);
    await eventually(async () => ((await countPoints(t.influx, 'soil', 'moisture')) === 2 ? true : undefined), 5_000, 'the second point');
    await client.endAsync();
    // The shipper counts a batch shipped after InfluxDB's answer, a moment after the point is visible.
    await eventually(() => (t.app.durableLog.backlog().lines === 0 ? true : undefined), 5_000, 'the backlog shipped');
    expect(t.app.durableLog.backlog().lines).toBe(0);
  });
});
