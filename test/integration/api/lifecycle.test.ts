import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, eventually, queryRows, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';

describe('device lifecycle: move', () => {
  let t: TestApp;
  let secret: string;
  beforeAll(async () => {
    t = await startTestApp();
    secret = await t.register({ id: 'm-1', kind: 'soil', place: { district: 'd1', community: 'ca', zone: 'za', plant: 'lawn' } });
    await t.register({ id: 'm-2', kind: 'soil', place: { district: 'd2', community: 'cb', zone: 'zb', plant: 'trees' } });
    await t.register({ id: 't-1', kind: 'tilt', place: { district: 'd1', community: 'ca', facility: 'f-1', facilityType: 'bench' } });
    await t.register({ id: 't-2', kind: 'tilt', place: { district: 'd1', community: 'ca', facility: 'f-2', facilityType: 'pavilion' } });
  });
  afterAll(async () => t?.stop());

  it('tags readings after a move with the new place, keeps earlier points as they were, and keeps the connection', async () => {
    const client = await connect(t.app.mqttPort, { clientId: 'm-1', username: 'm-1', password: secret });
    const ts = Date.now() - 10_000;
    await publish(client, 'gs/m-1/up', JSON.stringify({ ts, seq: 1, moisture: 21 }), 1);
    const moved = await t.app.api.inject({ method: 'POST', url: '/api/v1/devices/m-1/move', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { zone: 'zb' } });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ id: 'm-1', district: 'd2', community: 'cb', zone: 'zb' });
    await publish(client, 'gs/m-1/up', JSON.stringify({ ts: ts + 1_000, seq: 2, moisture: 22 }), 1);
    expect(client.connected).toBe(true);
    client.end(true);
    const rows = await eventually(async () => {
      const r = await queryRows(t.influx, `SELECT moisture, district, community, zone, plant FROM soil WHERE device = 'm-1'`);
      return r.length === 2 ? r : undefined;
    });
    expect(rows).toEqual([
      expect.objectContaining({ time: ts, moisture: 21, district: 'd1', community: 'ca', zone: 'za', plant: 'lawn' }),
      expect.objectContaining({ time: ts + 1_000, moisture: 22, district: 'd2', community: 'cb', zone: 'zb', plant: 'trees' }),
    ]);
  });

  it.each([
    ['m-2', { facility: 'f-1' }, 400, 'zone, not a facility'],
    ['t-1', { zone: 'za' }, 400, 'facility, not a zone'],
    ['t-1', { facility: 'f-2' }, 200, undefined],
    ['m-2', { community: 'ca' }, 200, undefined],
  ] as const)('moves %s to %j: %i', async (id, body, status, message) => {
    const res = await t.app.api.inject({ method: 'POST', url: `/api/v1/devices/${id}/move`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: body });
    expect(res.statusCode, res.body).toBe(status);
    if (message) expect(res.json()).toMatchObject({ error: 'bad_request', message: expect.stringContaining(message) });
  });
});
