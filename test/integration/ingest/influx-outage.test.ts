import { afterAll, describe, expect, it } from 'vitest';
import { countPoints, eventually, queryRows, startTestApp, UNLIMITED, type TestApp } from '../../helpers/app.ts';
import { INFLUX_APIS, outageServer, type OutageServer } from '../../helpers/influx-server.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { writtenTwice } from '../../helpers/write-tap.ts';

// v1: a throwaway influxd stopped and restarted; v2: the 2.x stand-in closed and reopened.
describe.each(INFLUX_APIS)('InfluxDB outage in the middle of a stream (%s write API)', (api) => {
  let t: TestApp | undefined;
  let server: OutageServer | undefined;
  afterAll(async () => {
    await t?.stop();
    await server?.close();
  });

  it('writes each of N points exactly once, after InfluxDB comes back', async () => {
    server = await outageServer(api);
    t = await startTestApp({ ...server.overrides, writeFlushMs: 20, writeBatchSize: 50, writeRetryMaxMs: 300, ...UNLIMITED });
    const secret = await t.register({ id: 'soil-o1', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
    const client = await connect(t.app.mqttPort, { clientId: 'soil-o1', username: 'soil-o1', password: secret });
    const base = Date.now() - 3_600_000;
    const send = async (from: number, to: number) => {
      for (let seq = from; seq < to; seq++) await publish(client, 'gs/soil-o1/up', JSON.stringify({ ts: base + seq * 1000, seq, moisture: 20 + (seq % 10) }), 1);
    };

    await send(0, 100);
    await eventually(async () => ((await countPoints(t!.influx, 'soil', 'moisture')) === 100 ? true : undefined), 10_000, 'the first 100 points');

    await server.down();
    await send(100, 250); // acknowledged while InfluxDB is down: durable on local disk
    const metrics = await eventually(async () => {
      const body = (await t!.app.api.inject({ url: '/metrics' })).body;
      // ≥: the app's own points (ingest statistics, alert transitions) share the durable log.
      return Number(/gs_durable_log_backlog_points (\d+)/.exec(body)?.[1] ?? 0) >= 150 ? body : undefined;
    }, 5_000, 'the backlog metric to show the points kept on disk');
    expect(metrics).toMatch(/gs_influx_write_errors_total\{kind="unreachable"\} [1-9]/);
    expect(metrics).toMatch(/gs_influx_up 0/);

    await server.up();
    await send(250, 300);
    client.end();
    await eventually(async () => ((await countPoints(t!.influx, 'soil', 'moisture')) === 300 ? true : undefined), 20_000, 'all 300 points after the outage');
    const perSecond = await queryRows(t.influx, `SELECT count(moisture) FROM soil WHERE time >= ${base}ms GROUP BY time(1s) fill(none)`);
    expect(perSecond).toHaveLength(300);
    // What was written, not what survived: each reading reached influxd once, none twice.
    await eventually(() => (t!.app.durableLog.backlog().lines === 0 ? true : undefined), 10_000, 'the durable log shipped');
    const written = server.lines((l) => l.startsWith('soil,') && l.includes('device=soil-o1'));
    expect(written).toHaveLength(300);
    expect(writtenTwice(written)).toEqual(new Map());
    if (server.standin) {
      // Through the native API, gzipped, never the v1 compatibility /write.
      expect(server.standin.requests()).toMatchObject({ 'POST /api/v2/write': expect.any(Number), gzipped: expect.any(Number) });
      expect(server.standin.requests()['POST /write']).toBeUndefined();
    }
    // The app's own counter agrees with what influxd accepted (its statistics points included).
    await eventually(async () => {
      const body = (await t!.app.api.inject({ url: '/metrics' })).body;
      return Number(/gs_influx_points_written_total (\d+)/.exec(body)?.[1]) === server!.lines().length ? true : undefined;
    }, 5_000, 'gs_influx_points_written_total to equal the lines influxd accepted');
    expect(t.app.durableLog.backlog().lines).toBe(0);
  });
});
