import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import QRCode from 'qrcode';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../helpers/app.ts';

/**
 * The desk pages (zone, facility, scorecard, password, the QR poster) against the real app,
 * through inject with real login sessions: each page holds to the caller's role and
 * districts as the API does — a zone or facility of another district is a 404, as missing
 * ones are; the scorecard and both exports show only the caller's districts; a role the API
 * refuses is refused by the page — and links to the right Grafana dashboard.
 */
const V1 = '/api/v1';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const PASSWORD = 'correct horse battery';
const GRAFANA = 'http://grafana.test:3000/';
const month = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 7);

describe('the desk pages hold to the caller\'s role and districts', () => {
  let t: TestApp;
  const sessions = new Map<string, { cookie: string; csrf: string }>();
  const get = (who: string, url: string) => t.app.api.inject({ url, headers: { cookie: sessions.get(who)!.cookie } });
  const post = (who: string, url: string, payload: object) => {
    const s = sessions.get(who)!;
    return t.app.api.inject({ method: 'POST', url, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload });
  };

  beforeAll(async () => {
    t = await startTestApp({ grafanaUrl: GRAFANA, publicUrl: 'https://green.example.cn/' });
    for (const [d, c] of [['taobei', 'xingfu'], ['tainan', 'heping']] as const) {
      await t.register({ id: `soil-${d}`, kind: 'soil', place: { district: d, community: c, zone: `z-${d}`, plant: 'lawn' } });
      await t.register({ id: `tilt-${d}`, kind: 'tilt', place: { district: d, community: c, facility: `pav-${d}`, facilityType: 'pavilion' } });
    }
    const users = [['op', 'operator', ['taobei']], ['south', 'operator', ['tainan']], ['viewer', 'viewer', ['taobei']], ['tech', 'technician', ['taobei']]] as const;
    for (const [name, role, districts] of users) {
      expect((await t.app.api.inject({ method: 'POST', url: `${V1}/users`, headers: admin, payload: { name, role, districts, password: PASSWORD } })).statusCode).toBe(201);
      const res = await t.app.api.inject({ method: 'POST', url: `${V1}/session`, payload: { name, password: PASSWORD } });
      sessions.set(name, { cookie: String(res.headers['set-cookie']).split(';')[0]!, csrf: (res.json() as { csrfToken: string }).csrfToken });
    }
  }, 60_000);
  afterAll(async () => t?.stop());

  it('shows an operator the zone, its band and actions, with the community dashboard\'s zone filled in', async () => {
    const res = await get('op', '/app/zones/z-taobei');
    expect(res.statusCode).toBe(200);
    // A loam lawn with no band of its own and no table in the deployment: its FAO-56 band, and the page says so.
    expect(res.body).toContain('<strong data-band>22–30 %</strong> <span class="meta">(来源: FAO-56（按植物与土壤）)</span>');
    expect(res.body).toContain('data-api="POST /api/v1/zones/z-taobei/water-now"');
    expect(res.body).toContain('data-api="POST /api/v1/zones/z-taobei/skip-next"');
    expect(res.body).toContain('data-api="POST /api/v1/zones/z-taobei/pause"');
    expect(res.body).toContain('href="http://grafana.test:3000/d/gs-community/greenspace-community?var-district=taobei&#38;var-community=xingfu&#38;var-zone=z-taobei"');
    const facility = await get('op', '/app/facilities/pav-taobei');
    expect(facility.statusCode).toBe(200);
    expect(facility.body).toContain('data-api="POST /api/v1/facilities/pav-taobei/calibrate"');
    expect(facility.body).toContain('/d/gs-facility-health/greenspace-facility-health?var-district=taobei&#38;var-community=xingfu&#38;var-facility=pav-taobei');
  });

  it.each([
    ['/app/zones/z-taobei', 404],
    ['/app/facilities/pav-taobei', 404],
    ['/app/zones/no-such-zone', 404],
    [`/app/zones/${'z'.repeat(65)}`, 404],
  ])('answers another district\'s operator %s with %i, as for one that does not exist', async (url, status) => {
    const res = await get('south', url);
    expect(res.statusCode).toBe(status);
    expect(res.body).not.toContain('xingfu');
  });

  // Sent over a real socket: inject (a WHATWG URL) would resolve the dot segments itself.
  it.each(['/app/zones/%2E%2E', '/app/facilities/%2E%2E', '/app/facilities/.'])('answers %s, which names no place, as a missing place without asking the API for another route', async (path) => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      request({ host: '127.0.0.1', port: t.app.httpPort, path, headers: { cookie: sessions.get('op')!.cookie } }, (r) => {
        let body = '';
        r.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      }).on('error', reject).end();
    });
    expect(res.status, res.body).toBe(404);
    expect(res.body).toContain('未找到');
  });

  it('lists only the caller\'s places, and reads in English when asked', async () => {
    const south = await get('south', '/app/places');
    expect(south.body).toContain('href="/app/zones/z-tainan"');
    expect(south.body).toContain('href="/app/facilities/pav-tainan"');
    expect(south.body).not.toContain('taobei');
    const en = await get('op', '/app/zones/z-taobei?lang=en');
    expect(en.body).toContain('Water now');
    expect(en.body).toContain('Zone moisture (median)');
    expect(en.body).toContain('(From: FAO-56 (plant and soil))');
  });

  it('scopes the scorecard page and both exports to the caller\'s districts', async () => {
    const api = await get('south', `${V1}/scorecard?month=${month}`);
    expect(api.statusCode, api.body).toBe(200);
    const mine = await get('south', `/app/scorecard?month=${month}`);
    expect(mine.statusCode).toBe(200);
    expect(mine.body).toContain('heping');
    expect(mine.body).not.toContain('xingfu');
    const csv = await get('south', `${V1}/scorecard.csv?month=${month}`);
    expect(csv.statusCode).toBe(200);
    expect(csv.body).toContain('heping');
    expect(csv.body).not.toContain('xingfu');
    const ExcelJS = (await import('exceljs')).default;
    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await get('south', `${V1}/scorecard.xlsx?month=${month}`)).rawPayload as never);
    const cells = book.worksheets.flatMap((s) => s.getSheetValues().flat()).map(String);
    expect(cells).toContain('heping');
    expect(cells).not.toContain('xingfu');
    expect(cells).not.toContain('taobei');
  });

  it.each(['2026-13', '2026-7', '07-2026', '2026-07-01'])('answers a malformed month (%s) with a 400 that says how to write one, not another month\'s scorecard', async (bad) => {
    const res = await get('op', `/app/scorecard?month=${encodeURIComponent(bad)}`);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('月份格式应为');
    expect(res.body).not.toContain('data-communities');
    expect((await get('op', `${V1}/scorecard?month=${encodeURIComponent(bad)}`)).statusCode).toBe(400);
  });

  it('refuses the scorecard page and exports to a technician, as the API does', async () => {
    for (const url of [`/app/scorecard?month=${month}`, `${V1}/scorecard.csv?month=${month}`, `${V1}/scorecard.xlsx?month=${month}`]) {
      expect((await get('tech', url)).statusCode, url).toBe(403);
    }
  });

  it('shows a viewer the zone and the facility without a button, and the API refuses the viewer\'s POSTs', async () => {
    for (const url of ['/app/zones/z-taobei', '/app/facilities/pav-taobei', `/app/scorecard?month=${month}`]) {
      const res = await get('viewer', url);
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).not.toContain('data-api=');
    }
    expect((await post('viewer', `${V1}/zones/z-taobei/water-now`, {})).statusCode).toBe(403);
    expect((await post('viewer', `${V1}/facilities/pav-taobei/calibrate`, { pitch: 0, roll: 0 })).statusCode).toBe(403);
  });

  it('links no dashboard when no Grafana is configured', async () => {
    const bare = await startTestApp();
    try {
      const res = await bare.app.api.inject({ method: 'POST', url: `${V1}/session`, payload: { name: 'nobody', password: PASSWORD } });
      expect(res.statusCode).toBe(401);
      await bare.register({ id: 'soil-x', kind: 'soil', place: { district: 'd', community: 'c', zone: 'zx', plant: 'lawn' } });
      await bare.app.api.inject({ method: 'POST', url: `${V1}/users`, headers: admin, payload: { name: 'op2', role: 'operator', password: PASSWORD } });
      const login = await bare.app.api.inject({ method: 'POST', url: `${V1}/session`, payload: { name: 'op2', password: PASSWORD } });
      const page = await bare.app.api.inject({ url: '/app/zones/zx', headers: { cookie: String(login.headers['set-cookie']).split(';')[0]! } });
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toContain('/d/gs-');
    } finally {
      await bare.stop();
    }
  }, 60_000);

  it('shows names from the inventory as text, never markup, and in Chinese first: district, type, mode and angles in words', async () => {
    const hostile = (what: string) => `${what}"><img src=x onerror=alert(1)><script>alert(1)</script>`;
    const inventory = {
      version: 1,
      districts: [{ id: 'hd', name: '洮北区', subDistricts: [{ id: 'hs', name: hostile('街道'), communities: [{
        id: 'hc', name: hostile('小区'),
        zones: [{ id: 'hz', name: hostile('草坪'), plant: 'lawn', mode: 'manual' }],
        facilities: [{ id: 'hf', name: hostile('凉亭'), type: 'pavilion', location: { description: hostile('3号楼') }, baseline: { pitch: 0.5, roll: -0.25 } }],
        devices: [{ id: 'hz-soil', kind: 'soil', zone: 'hz' }, { id: 'hf-tilt', kind: 'tilt', facility: 'hf' }],
      }] }] }],
    };
    const app = await startTestApp({ grafanaUrl: GRAFANA });
    try {
      expect((await app.app.api.inject({ method: 'PUT', url: `${V1}/inventory`, headers: admin, payload: inventory })).statusCode).toBe(200);
      await app.app.api.inject({ method: 'POST', url: `${V1}/users`, headers: admin, payload: { name: 'op3', role: 'operator', password: PASSWORD } });
      const login = await app.app.api.inject({ method: 'POST', url: `${V1}/session`, payload: { name: 'op3', password: PASSWORD } });
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      const pages: Record<string, string> = {};
      for (const url of ['/app/places', '/app/zones/hz', '/app/facilities/hf', `/app/scorecard?month=${month}`, '/app/report/hc', '/app/report/hc/qr']) {
        const res = await app.app.api.inject({ url, headers: { cookie } });
        expect(res.statusCode, url).toBe(200);
        expect(res.body, url).not.toMatch(/<img src=x|<script>alert|"><img/);
        pages[url] = res.body;
      }
      expect(pages['/app/places']).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
      expect(pages['/app/zones/hz']).toContain('模式: 手动');
      expect(pages['/app/facilities/hf']).toContain('凉亭');
      expect(pages['/app/facilities/hf']).toContain('俯仰 0.50° · 横滚 -0.25°');
      expect(pages['/app/facilities/hf']).not.toMatch(/pitch|roll|pavilion</);
      expect(pages['/app/facilities/hf']).toContain('op3 · 调度员</a>');
      expect(pages['/app/facilities/hf']).not.toContain('· operator<');
      expect(pages[`/app/scorecard?month=${month}`]).toContain('洮北区 <span class="meta">hd</span>');
    } finally {
      await app.stop();
    }
  }, 60_000);

  it('lists a facility\'s open work order on its page however many newer ones its community has', async () => {
    const at = Date.now();
    const tilt = (await t.app.health.alerts.apply({ action: 'raise', kind: 'facility_tilt', subject: 'pav-taobei', severity: 'warning', message: 'tilted 9°', communityId: 'xingfu', districtId: 'taobei', at }))!;
    const order = (await t.app.health.workOrders.forAlert(tilt.id))!;
    for (let i = 0; i < 501; i++) {
      await t.app.health.alerts.apply({ action: 'raise', kind: 'battery_low', subject: `soil-busy-${i}`, severity: 'warning', message: 'battery 15 %', communityId: 'xingfu', districtId: 'taobei', at: at + i + 1 });
    }
    const res = await get('op', '/app/facilities/pav-taobei');
    expect(res.body).toContain(`href="/app/work-orders/${order.id}"`);
    expect(res.body).not.toContain('soil-busy');
  });

  it('says the data cannot be read when the API fails (its database down), not that the scorecard does not exist', async () => {
    const down = await startTestApp({ influxUrl: 'http://127.0.0.1:9' });
    try {
      await down.app.api.inject({ method: 'POST', url: `${V1}/users`, headers: admin, payload: { name: 'op4', role: 'operator', password: PASSWORD } });
      const login = await down.app.api.inject({ method: 'POST', url: `${V1}/session`, payload: { name: 'op4', password: PASSWORD } });
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      expect((await down.app.api.inject({ url: `${V1}/scorecard?month=${month}`, headers: admin })).statusCode).toBe(500);
      const res = await down.app.api.inject({ url: `/app/scorecard?month=${month}`, headers: { cookie } });
      expect(res.statusCode).toBe(500);
      expect(res.body).toContain('暂时无法读取数据');
      expect(res.body).not.toContain('未找到');
    } finally {
      await down.stop();
    }
  }, 60_000);

  it('prints the community\'s report page as a QR code of its public URL', async () => {
    const res = await t.app.api.inject({ url: '/app/report/xingfu/qr' });
    expect(res.statusCode).toBe(200);
    const url = 'https://green.example.cn/app/report/xingfu';
    expect(res.body).toContain(`data-url>${url}<`);
    const svg = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2, color: { dark: '#1b2b1e', light: '#ffffff' } });
    expect(res.body).toContain(svg);
    expect((await t.app.api.inject({ url: '/app/report/nowhere/qr' })).statusCode).toBe(404);
  });

  it('looks a typed reference up, and says so when there is none', async () => {
    const made = await t.app.api.inject({ method: 'POST', url: `${V1}/communities/xingfu/reports`, payload: { category: 'other', text: 'bench broken' } });
    const reference = (made.json() as { reference: string }).reference;
    const typed = await t.app.api.inject({ url: `/app/report-state?reference=${encodeURIComponent(` ${reference.toLowerCase()} `)}` });
    expect(typed.statusCode).toBe(302);
    const state = await t.app.api.inject({ url: typed.headers.location! });
    expect(state.statusCode).toBe(200);
    expect(state.body).toContain('已受理');
    const none = await t.app.api.inject({ url: '/app/report-state/1-AAAA-AAAA' });
    expect(none.statusCode).toBe(404);
    expect(none.body).toContain('没有这个编号');
  });

  // The page must not build an API path from whatever was typed: a reference of the wrong
  // shape is answered "no such reference" before any path is made, never redirected onwards.
  it.each([
    ['..', '/app/report-state?reference=..'],
    ['../session', '/app/report-state?reference=..%2Fsession'],
    ['%2E%2E', '/app/report-state?reference=%252E%252E'],
    ['a slash', '/app/report-state?reference=1-AAAA%2FAAAA'],
    ['.. in the path', '/app/report-state/%2E%2E'],
    ['a double-encoded .. in the path', '/app/report-state/%252E%252E'],
    ['a slash in the path', '/app/report-state/..%2F..%2Fsession'],
    ['a query in the path', '/app/report-state/1-AAAA-AAAA%3Flang%3Den'],
  ])('answers a malformed reference (%s) with the page\'s not-found', async (_what, path) => {
    // Over a real socket, as for the places above: inject would resolve the dot segments itself.
    const res = await new Promise<{ status: number; type: string; location: string; body: string }>((resolve, reject) => {
      request({ host: '127.0.0.1', port: t.app.httpPort, path }, (r) => {
        let body = '';
        r.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: r.statusCode ?? 0, type: String(r.headers['content-type']), location: String(r.headers.location), body }));
      }).on('error', reject).end();
    });
    expect(res.status, res.location).toBe(404);
    expect(res.type).toMatch(/^text\/html/);
    expect(res.body).toContain('没有这个编号');
  });
});
