import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, countPoints, eventually, queryRows, startTestApp, UNLIMITED, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';

const now = Date.now();

/** One hostile message per bad-input class, with the reason it must be refused for. */
const BAD: Array<[string, string | Buffer, string]> = [
  ['malformed JSON', '{"moisture": 23', 'malformed_json'],
  ['not an object', '"hello"', 'schema'],
  ['wrong type', JSON.stringify({ seq: 1000, moisture: 'wet' }), 'schema'],
  ['field of another kind', JSON.stringify({ seq: 1001, moisture: 20, pitch: 3 }), 'schema'],
  ['missing required field', JSON.stringify({ seq: 1002, temperature: 20 }), 'schema'],
  ['out of range', JSON.stringify({ seq: 1003, moisture: 140 }), 'out_of_range'],
  ['far future', JSON.stringify({ seq: 1005, ts: now + 86_400_000, moisture: 20 }), 'bad_timestamp'],
  ['seconds instead of ms', JSON.stringify({ seq: 1006, ts: Math.floor(now / 1000), moisture: 20 }), 'bad_timestamp'],
  ['oversized', Buffer.alloc(8 * 1024, 0x20), 'too_large'],
  ['huge batch', JSON.stringify(Array.from({ length: 1001 }, (_, i) => ({ seq: 5000 + i, moisture: 20 }))), 'too_large'],
];

describe('bad input is refused, counted and dead-lettered while a good device loses nothing', () => {
  let t: TestApp;
  let good: MqttClient;
  let bad: MqttClient;

  beforeAll(async () => {
    t = await startTestApp({ maxPayloadBytes: 4096, ...UNLIMITED }); // a stream test, not a rate-limit test
    const place = { district: 'd1', community: 'c1', zone: 'z1' };
    const goodSecret = await t.register({ id: 'soil-good', kind: 'soil', place });
    const badSecret = await t.register({ id: 'soil-bad', kind: 'soil', place });
    good = await connect(t.app.mqttPort, { clientId: 'soil-good', username: 'soil-good', password: goodSecret });
    bad = await connect(t.app.mqttPort, { clientId: 'soil-bad', username: 'soil-bad', password: badSecret });
  });
  afterAll(async () => {
    good?.end(true);
    bad?.end(true);
    await t?.stop();
  });

  it('refuses every class with its reason, keeps the connection, and stores every good reading', async () => {
    const base = now - 600_000;
    const goodStream = (async () => {
      for (let seq = 0; seq < 300; seq++) await publish(good, 'gs/soil-good/up', JSON.stringify({ ts: base + seq * 100, seq, moisture: 25 }), 1);
    })();
    for (const [, payload] of BAD) await publish(bad, 'gs/soil-bad/up', payload, 1);
    // A duplicate: the same reading twice (a retransmission).
    const dup = JSON.stringify({ seq: 7, ts: base, moisture: 22 });
    await publish(bad, 'gs/soil-bad/up', dup, 1);
    await publish(bad, 'gs/soil-bad/up', dup, 1);
    // One bad field: the reading is stored without it; the field is counted and dead-lettered.
    await publish(bad, 'gs/soil-bad/up', JSON.stringify({ seq: 1004, moisture: 20, battery: -3 }), 1);
    // A batch with one bad item: the others are kept.
    await publish(bad, 'gs/soil-bad/up', JSON.stringify([{ seq: 8, ts: base + 1, moisture: 21 }, { seq: 9, ts: base + 2, moisture: 'x' }, { seq: 10, ts: base + 3, moisture: 23 }]), 1);
    await goodStream;

    expect(bad.connected).toBe(true);
    await eventually(async () => ((await countPoints(t.influx, 'soil', 'moisture')) === 304 ? true : undefined), 5_000, '300 good + 4 valid points');
    const badRows = await queryRows(t.influx, `SELECT moisture, battery FROM soil WHERE device = 'soil-bad'`);
    // The reading with the bad battery has no ts: stored at receive time, after the others.
    expect(badRows.map((r) => [r.moisture, r.battery])).toEqual([[22, null], [21, null], [23, null], [20, null]]);

    const metrics = (await t.app.api.inject({ url: '/metrics' })).body;
    const expected: Record<string, number> = {};
    for (const [, , reason] of BAD) expected[reason] = (expected[reason] ?? 0) + 1;
    expected.duplicate = 1;
    expected.schema = (expected.schema ?? 0) + 1; // the bad batch item
    for (const [reason, n] of Object.entries(expected)) {
      expect(metrics, reason).toContain(`gs_readings_rejected_total{reason="${reason}"} ${n}`);
      // The dropped battery field is a dead letter, not a refused reading.
      expect(metrics, reason).toContain(`gs_dead_letters_total{reason="${reason}"} ${n + (reason === 'out_of_range' ? 1 : 0)}`);
    }
    expect(metrics).toContain('gs_reading_fields_refused_total{profile="native",field="battery",reason="out_of_range"} 1');
  });

  it('serves the dead letters with filters and a specific reason for each', async () => {
    const get = async (query: string) => {
      const res = await t.app.api.inject({ url: `/api/v1/dead-letters${query}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.statusCode).toBe(200);
      return res.json() as Array<{ reason: string; detail: string; device: string; topic: string; payload: string }>;
    };
    const all = await get('?device=soil-bad&limit=1000');
    expect(all).toHaveLength(BAD.length + 3);
    expect(all.every((d) => d.device === 'soil-bad' && d.topic === 'gs/soil-bad/up')).toBe(true);
    const range = await get('?reason=out_of_range');
    expect(range.map((d) => d.detail).sort()).toEqual(['battery: -3 is outside 0..100 (field battery dropped; the rest of the reading kept)', 'moisture: 140 is outside 0..100']);
    const [oversized] = await get('?reason=too_large&limit=1');
    expect(oversized!.payload.length).toBeLessThan(1100); // truncated
    const [seconds] = (await get('?reason=bad_timestamp')).filter((d) => d.detail.includes('seconds'));
    expect(seconds!.detail).toMatch(/looks like seconds, send epoch milliseconds/);
    expect(await get('?reason=duplicate')).toEqual([expect.objectContaining({ detail: expect.stringMatching(/already accepted/) })]);
    expect(await get('?device=soil-good')).toEqual([]);
    const bad = await t.app.api.inject({ url: '/api/v1/dead-letters?reason=nonsense', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0].path).toBe('reason');
  });
});
