import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../helpers/app.ts';
import { sqliteSqlOf } from '../../../registry/sql/sqlite.ts';
import { openDb } from '../../../registry/db.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createAlertService } from '../../../alerts/alert-service.ts';
import { createWorkOrderService } from '../../../alerts/work-orders/service.ts';
import { toLine } from '../../../influx/line-protocol.ts';
import { monthPeriod } from '../../../assessment/collect.ts';
import { DEFAULT_BANDS } from '../../../rules/irrigation/settings.ts';
import ExcelJS from 'exceljs';

const HOUR = 3_600_000;
const MIN = 60_000;
const { from: OCT, to: NOV } = monthPeriod('2026-10'); // UTC+8 calendar month: 744 hours

describe('monthly scorecard over seeded InfluxDB data and a seeded ledger', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    await t.register({ id: 'sa-1', kind: 'soil', reportIntervalS: 3600, place: { district: 'taobei', community: 'c-a', zone: 'za', plant: 'lawn' } });
    await t.register({ id: 'sb-1', kind: 'soil', reportIntervalS: 3600, place: { district: 'taobei', community: 'c-b', zone: 'zb', plant: 'trees' } });
    await t.register({ id: 'sc-1', kind: 'soil', reportIntervalS: 3600, place: { district: 'tainan', community: 'c-c', zone: 'zc', plant: 'shrubs' } });

    // Seed: c-a reports every hour, in its lawn band (20–30 %) for the first half of the month only;
    // c-b reports every other hour, always inside its tree band (18–32 %); c-c never reports.
    const lines: string[] = [];
    for (let h = 0; h < 744; h++) {
      const ts = OCT + h * HOUR;
      lines.push(toLine('soil', { district: 'taobei', community: 'c-a', zone: 'za', device: 'sa-1', plant: 'lawn' }, { moisture: h < 372 ? 28 : 15 }, ts));
      if (h % 2 === 0) lines.push(toLine('soil', { district: 'taobei', community: 'c-b', zone: 'zb', device: 'sb-1', plant: 'trees' }, { moisture: 25 }, ts));
    }
    lines.push(toLine('soil', { district: 'taobei', community: 'c-a', zone: 'za', device: 'sa-1', plant: 'lawn' }, { moisture: 5 }, NOV)); // next month: not counted
    await t.influx.createDatabase();
    expect(await t.influx.write(lines.join('\n'))).toEqual({ kind: 'ok' });

    // The registry and the ledger as they were in October (a second connection to the app's SQLite file).
    const db = openDb(join(t.dataDir, 'greenspace.db'));
    db.prepare('UPDATE devices SET created_at = ?').run(new Date(OCT - 30 * 24 * HOUR).toISOString());
    const clock = createManualClock(OCT + 4 * 24 * HOUR);
    const alerts = createAlertService({ sql: sqliteSqlOf(db), clock, logger: createLogger('silent') });
    const orders = createWorkOrderService({ clock, alerts });
    const signal = (community: string, severity: 'warning' | 'critical') => ({ action: 'raise' as const, kind: 'device_offline' as const, subject: `s-${community}`, severity, message: 'offline', communityId: community, districtId: 'taobei', at: clock.now() });
    // c-a: acknowledged in 10 min, fixed in 2 h (critical SLA 4 h: on time).
    const a = (await alerts.apply(signal('c-a', 'critical')))!;
    clock.advance(10 * MIN);
    await alerts.acknowledge(a.id, { by: 'op' });
    const woA = (await orders.forAlert(a.id))!.id;
    await orders.act(woA, { action: 'assign', assignee: 'wang' }, 'op');
    clock.advance(110 * MIN);
    await orders.act(woA, { action: 'resolve', note: 'new antenna' }, 'wang');
    await orders.act(woA, { action: 'verify' }, 'op');
    // c-b: acknowledged in 60 min, fixed in 32 h (warning SLA 24 h: late).
    const b = (await alerts.apply(signal('c-b', 'warning')))!;
    clock.advance(60 * MIN);
    await alerts.acknowledge(b.id, { by: 'op' });
    const woB = (await orders.forAlert(b.id))!.id;
    await orders.act(woB, { action: 'assign', assignee: 'li' }, 'op');
    clock.advance(31 * HOUR);
    await orders.act(woB, { action: 'resolve', note: 'battery swapped' }, 'li');
    db.close();
  });
  afterAll(async () => t?.stop());

  it('computes uptime, time in band, response times and SLA per community, scores and ranks them', async () => {
    const res = await t.app.api.inject({ url: '/api/v1/scorecard?month=2026-10', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.statusCode).toBe(200);
    const card = res.json() as { month: string; from: number; to: number; rows: Array<Record<string, unknown>> };
    expect(card).toMatchObject({ month: '2026-10', from: OCT, to: NOV });
    expect(card.rows).toEqual([
      // 0.3·1 + 0.3·0.5 + 0.25·1 + 0.15·1 = 0.85
      expect.objectContaining({ communityId: 'c-a', districtId: 'taobei', rank: 1, score: 85, devices: 1, uptime: 1, zones: 1, inBand: 0.5,
        alerts: 1, mttaMs: 10 * MIN, mttrMs: 2 * HOUR, workOrdersDue: 1, workOrdersOnTime: 1, slaCompliance: 1 }),
      // 0.3·0.5 + 0.3·1 + 0.25·0 + 0.15·mean(30/60, 24/32) = 0.15 + 0.3 + 0 + 0.09375 = 0.54375
      expect.objectContaining({ communityId: 'c-b', rank: 2, score: 54.4, uptime: 0.5, inBand: 1, mttaMs: 60 * MIN, mttrMs: 32 * HOUR, workOrdersDue: 1, workOrdersOnTime: 0, slaCompliance: 0 }),
      // Registered all month, never reported: uptime 0, no moisture to judge, no faults.
      expect.objectContaining({ communityId: 'c-c', districtId: 'tainan', rank: 3, score: 0, uptime: 0, inBand: null, alerts: 0, slaCompliance: null }),
    ]);
  });

  it('serves the same scorecard as CSV and refuses a malformed month', async () => {
    const res = await t.app.api.inject({ url: '/api/v1/scorecard.csv?month=2026-10', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toContain('scorecard-2026-10.csv');
    expect(res.body.replace(/^\uFEFF/, '').trimEnd().split('\r\n')).toEqual([
      '月份 month,排名 rank,小区 community,区 district,得分 score,传感器在线率% sensor_uptime_pct,设备数 devices,湿度达标率% in_band_pct,灌溉分区数 zones,告警数 alerts,平均响应(分钟) mtta_min,平均修复(分钟) mttr_min,到期工单 work_orders_due,按时完成 work_orders_on_time,按时率% sla_compliance_pct',
      '2026-10,1,c-a,taobei,85,100.0,1,50.0,1,1,10.0,120.0,1,1,100.0',
      '2026-10,2,c-b,taobei,54.4,50.0,1,100.0,1,1,60.0,1920.0,1,0,0.0',
      '2026-10,3,c-c,tainan,0,0.0,1,,1,0,,,0,0,',
    ]);
    const bad = await t.app.api.inject({ url: '/api/v1/scorecard?month=2026-13', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(bad.statusCode).toBe(400);
  });

  it('serves it as an Excel workbook: communities ranked, then districts by their mean score; a confined caller gets only its district', async () => {
    const read = async (headers: Record<string, string>) => {
      const res = await t.app.api.inject({ url: '/api/v1/scorecard.xlsx?month=2026-10', headers });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
      expect(res.headers['content-disposition']).toContain('scorecard-2026-10.xlsx');
      const book = new ExcelJS.Workbook();
      await book.xlsx.load(res.rawPayload as never);
      return book.worksheets.map((sheet) => sheet.getSheetValues().slice(1).map((row) => (row as unknown[]).slice(1)));
    };
    const [communities, districts] = await read({ authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(communities![0]!.slice(0, 5)).toEqual(['月份 month', '排名 rank', '小区 community', '区 district', '得分 score']);
    expect(communities!.slice(1).map((r) => r.slice(0, 6))).toEqual([
      ['2026-10', 1, 'c-a', 'taobei', 85, 100], ['2026-10', 2, 'c-b', 'taobei', 54.4, 50], ['2026-10', 3, 'c-c', 'tainan', 0, 0],
    ]);
    expect(districts).toEqual([['排名 rank', '区 district', '小区数 communities', '有得分小区 scored_communities', '平均得分 mean_score'], [1, 'taobei', 2, 2, 69.7], [2, 'tainan', 1, 1, 0]]);
    const token = await t.app.api.inject({ method: 'POST', url: '/api/v1/tokens', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { name: 'tainan-viewer', role: 'viewer', districts: ['tainan'] } });
    const viewer = { authorization: `Bearer ${(token.json() as { secret: string }).secret}` };
    const [mine, myDistricts] = await read(viewer);
    expect(mine!.slice(1).map((r) => r[2])).toEqual(['c-c']);
    // Its district keeps its place in the city (2nd), as its community keeps rank 3: not "1st of 1".
    expect(myDistricts!.slice(1)).toEqual([[2, 'tainan', 1, 1, 0]]);
    const json = await t.app.api.inject({ url: '/api/v1/scorecard?month=2026-10', headers: viewer });
    expect((json.json() as { districts: unknown[] }).districts).toEqual([{ districtId: 'tainan', communities: 1, scored: 1, meanScore: 0, rank: 2 }]);
  });
});

describe('a deployment with its own band table, a zone with an operator\'s band: the scorecard measures the band irrigation waters to', () => {
  let t: TestApp;
  // FAO-56 puts a loam lawn at 22–30 %; this deployment waters its lawns to 12–18 %.
  const irrigation = { bands: { ...DEFAULT_BANDS, lawn: { low: 12, high: 18 } } };

  beforeAll(async () => {
    t = await startTestApp(undefined, { app: { irrigation } });
    await t.register({ id: 'sl-1', kind: 'soil', reportIntervalS: 3600, place: { district: 'taobei', community: 'c-l', zone: 'zl', plant: 'lawn' } });
    await t.register({ id: 'sm-1', kind: 'soil', reportIntervalS: 3600, place: { district: 'taobei', community: 'c-m', zone: 'zm', plant: 'lawn' } });
    // An operator narrowed zm's band to 14–16 % (PUT /zones/zm/irrigation): 17 % is inside the table's band, not inside zm's.
    const put = await t.app.api.inject({ method: 'PUT', url: '/api/v1/zones/zm/irrigation', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { band: { low: 14, high: 16 } } });
    expect(put.statusCode, put.body).toBe(200);
    const lines: string[] = [];
    for (let h = 0; h < 744; h++) {
      lines.push(toLine('soil', { district: 'taobei', community: 'c-l', zone: 'zl', device: 'sl-1', plant: 'lawn' }, { moisture: 15 }, OCT + h * HOUR));
      lines.push(toLine('soil', { district: 'taobei', community: 'c-m', zone: 'zm', device: 'sm-1', plant: 'lawn' }, { moisture: 17 }, OCT + h * HOUR));
    }
    await t.influx.createDatabase();
    expect(await t.influx.write(lines.join('\n'))).toEqual({ kind: 'ok' });
  });
  afterAll(async () => t?.stop());

  it('counts a zone\'s hours against the band the irrigation engine resolves for it: the table\'s, or the operator\'s over it', async () => {
    expect(t.app.irrigation.effectiveSettings('zl')?.band).toEqual({ value: { low: 12, high: 18 }, source: 'plant_type' });
    expect(t.app.irrigation.effectiveSettings('zm')?.band).toEqual({ value: { low: 14, high: 16 }, source: 'zone_override' });
    const res = await t.app.api.inject({ url: '/api/v1/scorecard?month=2026-10', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.statusCode).toBe(200);
    const rows = (res.json() as { rows: Array<Record<string, unknown>> }).rows;
    expect(rows).toEqual([
      expect.objectContaining({ communityId: 'c-l', zones: 1, inBand: 1 }),
      expect.objectContaining({ communityId: 'c-m', zones: 1, inBand: 0 }), // 17 % against the operator's 14–16 %
    ]);
  });
});
