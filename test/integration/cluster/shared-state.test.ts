import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../helpers/app.ts';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { freePort } from '../../../influx/influxd-process.ts';
import { LOCK_FILE } from '../../../lib/data-dir-lock.ts';
import { openDb } from '../../../registry/db.ts';
import type { AlertSignal } from '../../../contracts/alert.ts';
import type { Sql } from '../../../registry/sql/port.ts';
import { createPostgresSql } from '../../../registry/sql/postgres.ts';

const V1 = '/api/v1';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

const impact = (subject: string, severity: 'warning' | 'critical', districtId = 'd-1'): AlertSignal => ({
  action: 'raise', kind: 'facility_impact', subject, severity, message: `impact on ${subject}`, communityId: `c-${districtId}`, districtId, at: Date.now(),
});

/**
 * Two app processes' worth of services (each its own data directory and SQLite) sharing one
 * PostgreSQL through GS_POSTGRES_URL: an alert raised on one is the other's, and the same
 * signal raised on both at once is one alert with one work order.
 */
describe('alerts and work orders shared in PostgreSQL (GS_POSTGRES_URL)', () => {
  let pg: TestPostgres;
  let url: string;
  let a: TestApp;
  let b: TestApp;
  let shared: Sql;

  beforeAll(async () => {
    pg = await startTestPostgres();
    url = await pg.createDatabase();
    shared = createPostgresSql({ url });
    [a, b] = await Promise.all([startTestApp({ postgresUrl: url }), startTestApp({ postgresUrl: url })]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await shared?.close();
    await pg?.stop();
  });

  it('an alert raised on one node is listed, acknowledged and closed through the other, and is in neither SQLite', async () => {
    const raised = (await a.app.health.alerts.apply(impact('pav-1', 'critical')))!;
    const onB = await b.app.api.inject({ method: 'GET', url: `${V1}/alerts/${raised.id}`, headers: admin });
    expect(onB.statusCode).toBe(200);
    expect(onB.json()).toMatchObject({ id: raised.id, state: 'firing', workOrder: { state: 'open', alertId: raised.id } });
    const ack = await b.app.api.inject({ method: 'POST', url: `${V1}/alerts/${raised.id}/ack`, headers: admin, payload: { by: 'wang' } });
    expect(ack.json()).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'wang' });
    expect(await a.app.health.alerts.get(raised.id)).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'wang' });
    const wo = (await a.app.health.workOrders.forAlert(raised.id))!;
    for (const [node, action, body] of [[a, 'assign', { assignee: 'li' }], [b, 'accept', { by: 'li' }], [a, 'resolve', { by: 'li', note: 'post re-set' }]] as const) {
      const res = await node.app.api.inject({ method: 'POST', url: `${V1}/work-orders/${wo.id}/${action}`, headers: admin, payload: body });
      expect(res.statusCode, `${action}: ${res.body}`).toBe(200);
    }
    // 整改销号 by someone who neither did nor entered the fix (the admin token entered it for li).
    expect(await b.app.health.workOrders.act(wo.id, { action: 'verify', note: '复查合格' }, 'op-zhao')).toMatchObject({ state: 'closed', closedBy: 'op-zhao' });
    expect(await b.app.health.alerts.get(raised.id)).toMatchObject({ state: 'resolved', resolvedBy: 'op-zhao' });
    // Each transition recorded by the notifier of the node that wrote it, all in the one shared table.
    await Promise.all([a, b].map((node) => node.app.notifications.notifier.settled()));
    expect(await shared.one('SELECT state FROM notify_alerts WHERE alert_id = ?', [raised.id])).toEqual({ state: 'resolved' });
    for (const node of [a, b]) {
      // A second connection to the node's own SQLite file: the ledger there stays empty.
      const db = openDb(join(node.dataDir, 'greenspace.db'));
      try {
        expect(db.prepare('SELECT count(*) AS n FROM alerts').get()).toEqual({ n: 0 });
        expect(db.prepare('SELECT count(*) AS n FROM notify_alerts').get()).toEqual({ n: 0 }); // the notifier's copy is in PostgreSQL too
      } finally {
        db.close();
      }
    }
  });

  it('reports PostgreSQL in /readyz', async () => {
    const res = await a.app.api.inject({ method: 'GET', url: '/readyz' });
    expect(res.json()).toMatchObject({ ready: true, checks: expect.objectContaining({ postgres: true }) });
  });

  it('the same signal raised on both nodes at once, many times over: one alert, one work order each', async () => {
    for (let round = 0; round < 10; round++) {
      const subject = `pav-race-${round}`;
      await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).app.health.alerts.apply(impact(subject, i < 3 ? 'warning' : 'critical'))));
      const active = await b.app.health.alerts.list({ subject, active: true });
      expect(active).toHaveLength(1);
      expect(active[0]).toMatchObject({ severity: 'critical', details: expect.objectContaining({ occurrences: 6 }) });
      expect(await a.app.health.workOrders.list({ subject })).toHaveLength(1);
    }
  });

  it('a district-confined caller lists the notifications about its district\'s alerts, read from PostgreSQL', async () => {
    const inD1 = (await a.app.health.alerts.apply(impact('pav-notify-d1', 'warning')))!;
    const inD2 = (await a.app.health.alerts.apply(impact('pav-notify-d2', 'warning', 'd-2')))!;
    const { outbox } = b.app.notifications;
    const ids: number[] = [];
    for (const alert of [inD1, inD2]) {
      const [id] = await outbox.enqueue([{
        teamId: `team-${alert.districtId}`, audience: 'team', channel: { type: 'webhook', url: 'http://127.0.0.1:9/hooks' },
        payload: { message: { title: `alert in ${alert.districtId}`, lines: [] }, alerts: [{ reason: 'firing', ackUrl: 'http://127.0.0.1:9/ack', alert: { ...alert, details: null } }] },
      }], Date.now() + 3_600_000); // not due for an hour: no worker of either node claims it before it is marked given up
      await outbox.markFailed(id!, 'fixture: given up');
      ids.push(id!);
    }
    const token = await b.app.api.inject({ method: 'POST', url: `${V1}/tokens`, headers: admin, payload: { name: 'operator-d1', role: 'operator', districts: ['d-1'] } });
    expect(token.statusCode, token.body).toBe(201);
    const confined = { authorization: `Bearer ${(token.json() as { secret: string }).secret}` };
    const listed = await b.app.api.inject({ method: 'GET', url: `${V1}/notifications`, headers: confined });
    expect(listed.statusCode, listed.body).toBe(200);
    expect((listed.json() as Array<{ id: number; alertIds: number[] }>).map((n) => [n.id, n.alertIds])).toEqual([[ids[0], [inD1.id]]]);
    const all = await b.app.api.inject({ method: 'GET', url: `${V1}/notifications`, headers: admin });
    expect((all.json() as Array<{ id: number }>).map((n) => n.id)).toEqual([ids[1], ids[0]]);
  });

  it('a silence created through one node\'s API is listed and deleted through the other\'s', async () => {
    const body = { communityId: 'c-d-1', endsAt: new Date(Date.now() + 3_600_000).toISOString(), comment: '更换立柱' };
    const created = await a.app.api.inject({ method: 'POST', url: `${V1}/silences`, headers: admin, payload: body });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json() as { id: number };
    const listed = await b.app.api.inject({ method: 'GET', url: `${V1}/silences`, headers: admin });
    expect((listed.json() as Array<{ id: number }>).map((s) => s.id)).toContain(id);
    expect((await b.app.api.inject({ method: 'DELETE', url: `${V1}/silences/${id}`, headers: admin })).statusCode).toBe(204);
    expect((await a.app.api.inject({ method: 'DELETE', url: `${V1}/silences/${id}`, headers: admin })).statusCode).toBe(404);
  });

  // Last: it takes the shared PostgreSQL away.
  it('is not ready once its PostgreSQL is gone, and still stops cleanly', async () => {
    await pg.stop();
    const res = await a.app.api.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ ready: false, checks: expect.objectContaining({ postgres: false }) });
  });
});

describe('a node whose PostgreSQL does not answer', () => {
  it('refuses to start, naming GS_POSTGRES_URL without its password, and releases its data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gs-nopg-'));
    try {
      const url = `postgres://gs:secret-pw@127.0.0.1:${await freePort()}/greenspace`;
      const start = startTestApp({ postgresUrl: url }, { dataDir });
      await expect(start).rejects.toThrow(/^GS_POSTGRES_URL postgres:\/\/gs:\*\*\*@127\.0\.0\.1:\d+\/greenspace does not answer .*start PostgreSQL/);
      await expect(start).rejects.not.toThrow(/secret-pw/);
      expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
