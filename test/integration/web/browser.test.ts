import { existsSync, mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import ExcelJS from 'exceljs';
import { stringify } from 'yaml';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, eventually, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';

/**
 * The people's pages in a real headless Chromium (Debian's, /usr/bin/chromium; .ci/run
 * installs it with a CJK font), against the real app: a technician on a phone, an operator
 * at a desk, a signed acknowledge link, a viewer, and no session at all.
 * GS_SCREENSHOTS=dir keeps the screenshots (docs/ takes its pictures from there).
 */
const CHROMIUM = process.env.GS_CHROMIUM ?? '/usr/bin/chromium';
const V1 = '/api/v1';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const PASSWORD = 'correct horse battery';
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' };
const DESK = { viewport: { width: 1366, height: 900 }, locale: 'zh-CN', acceptDownloads: true };
/**
 * The place as an inventory describes it (inventory/examples/city.yaml's names): the pages and
 * the screenshots show what a user sees, 洮北区 / 幸福家园 / 中心草坪 / 木质凉亭, not bare ids.
 * A lawn zone with two sensors and a valve, and a pavilion with its tilt sensor.
 */
const INVENTORY = stringify({
  version: 1,
  districts: [{ id: 'taobei', name: '洮北区', subDistricts: [{ id: 'taobei-xingfu', name: '幸福街道', communities: [{
    id: 'xingfu', name: '幸福家园',
    zones: [{ id: 'lawn-1', name: '中心草坪', plant: 'lawn', mode: 'automatic', soil: 'loam', valve: 'valve-1' }],
    facilities: [{ id: 'pav-7', name: '木质凉亭', type: 'pavilion' }],
    devices: [
      { id: 'tilt-7', kind: 'tilt', facility: 'pav-7' },
      { id: 'soil-1a', kind: 'soil', zone: 'lawn-1' },
      { id: 'soil-1b', kind: 'soil', zone: 'lawn-1' },
      { id: 'valve-1', kind: 'valve', zone: 'lawn-1' },
    ],
  }] }] }],
});
/** A 1×1 PNG: what the phone's camera hands the file input in the test. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

describe('the people\'s pages in a real browser', () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  const shots = process.env.GS_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'gs-shots-'));
  const shoot = (page: Page, name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  let workOrderId = 0;
  let alertId = 0;
  const devices: MqttClient[] = [];
  const month = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 7);

  const api = (method: 'GET' | 'POST', url: string, payload?: object) => t.app.api.inject({ method, url, headers: admin, ...(payload ? { payload } : {}) });
  const loginAs = async (context: BrowserContext, name: string, next = '/app/') => {
    const page = await context.newPage();
    await page.goto(`${base}/app/login?next=${encodeURIComponent(next)}`);
    await page.fill('#name', name);
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL((u) => !u.pathname.endsWith('/login')), page.click('button[type=submit]')]);
    return page;
  };

  beforeAll(async () => {
    // No silent skip: without the browser these flows are untested, so say so and fail.
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium fonts-wqy-zenhei (as .ci/run does), or set GS_CHROMIUM`);
    mkdirSync(shots, { recursive: true });
    // The automatic controller must not start its own run while an operator waters (this test
    // once ran at 05:07 in Shanghai, inside the default 05-06 window): one window, twelve hours away.
    const hourThere = Number(new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Shanghai', hour: 'numeric', hourCycle: 'h23' }).format(new Date()));
    t = await startTestApp({}, { app: { irrigation: { windows: [`* ${(hourThere + 12) % 24} * * *`] } } });
    base = `http://127.0.0.1:${t.app.httpPort}`;
    for (const [name, role] of [['wang', 'technician'], ['zhao', 'operator'], ['chen', 'viewer'], ['sun', 'technician']] as const) {
      expect((await api('POST', `${V1}/users`, { name, role, password: PASSWORD })).statusCode).toBe(201);
    }
    const imported = await t.app.api.inject({ method: 'PUT', url: `${V1}/inventory`, headers: { ...admin, 'content-type': 'application/yaml' }, payload: INVENTORY });
    expect(imported.statusCode, imported.body).toBe(200);
    const secrets = new Map((imported.json() as { credentials: Array<{ deviceId: string; secret: string }> }).credentials.map((c) => [c.deviceId, c.secret]));
    // The zone's two sensors and the pavilion's tilt sensor, each reporting once.
    for (const [id, body] of [['soil-1a', { moisture: 17.5, temperature: 12 }], ['soil-1b', { moisture: 19.5, temperature: 12 }], ['tilt-7', { pitch: 2.5, roll: 0.4 }]] as const) {
      const client = await connect(t.app.mqttPort, { clientId: id, username: id, password: secrets.get(id) });
      devices.push(client);
      await publish(client, `gs/${id}/up`, JSON.stringify({ seq: 1, ...body }));
    }
    await eventually(() => t.app.irrigation.status('lawn-1')?.inputs.moisture, 5_000, 'the zone\'s median moisture');
    const alert = (await t.app.health.alerts.apply({
      action: 'raise', kind: 'facility_impact', subject: 'pav-7', severity: 'critical', message: '木质凉亭 pav-7 受撞击（6° 变化，5 g 冲击）',
      communityId: 'xingfu', districtId: 'taobei', details: { deltaDeg: 6, shockG: 5 }, at: Date.now(),
    }))!;
    workOrderId = (await t.app.health.workOrders.forAlert(alert.id))!.id;
    expect((await api('POST', `${V1}/work-orders/${workOrderId}/assign`, { assignee: 'wang' })).statusCode).toBe(200);
    alertId = (await t.app.health.alerts.apply({ action: 'raise', kind: 'battery_low', subject: 'tilt-7', severity: 'warning', message: '设备 tilt-7 电量低（15%）', communityId: 'xingfu', districtId: 'taobei', at: Date.now() }))!.id;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  }, 60_000);
  afterAll(async () => {
    for (const client of devices) await client.endAsync();
    await browser?.close();
    await t?.stop();
  });

  it('sends a page reached without a session to the login, and back after it', async () => {
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    await page.goto(`${base}/app/work-orders/${workOrderId}`);
    expect(new URL(page.url()).pathname).toBe('/app/login');
    await shoot(page, '01-login-phone');
    await page.fill('#name', 'wang');
    await page.fill('#password', 'wrong password');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('.error')).toContain('unknown name or wrong password');
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(`**/app/work-orders/${workOrderId}`), page.click('button[type=submit]')]);
    await context.close();
  }, 60_000);

  it('lets a technician on a phone accept, photograph and resolve their work order', async () => {
    const context = await browser.newContext(PHONE);
    const page = await loginAs(context, 'wang');
    expect(new URL(page.url()).pathname).toBe('/app/my');
    await expect.poll(() => page.textContent('main')).toContain('木质凉亭 pav-7 受撞击');
    await shoot(page, '02-technician-my-work');
    await page.click(`a[href="/app/work-orders/${workOrderId}"]`);
    await page.click('button:has-text("接单")');
    await page.waitForSelector('#note');
    await page.fill('#note', '更换了开裂的支撑，已紧固');
    await page.setInputFiles('#photo', { name: 'fix.png', mimeType: 'image/png', buffer: PNG });
    await shoot(page, '03-technician-resolve');
    await page.click('button:has-text("提交整改")');
    await expect.poll(() => page.textContent('main')).toContain('待验收');
    const wo = (await api('GET', `${V1}/work-orders/${workOrderId}`)).json() as { state: string; resolution: string; photoUrl: string; history: Array<{ action: string; by: string }> };
    expect(wo).toMatchObject({ state: 'resolved', resolution: '更换了开裂的支撑，已紧固' });
    expect(wo.history.map((h) => `${h.action}:${h.by}`)).toEqual(['open:system', 'assign:admin', 'accept:wang', 'resolve:wang']);
    expect(wo.photoUrl).toMatch(new RegExp(`/api/v1/work-orders/${workOrderId}/photos/[a-f0-9]{24}\\.png$`));
    // The photo shows on the page: served to the session, to nobody without one.
    await expect.poll(() => page.locator('img.photo').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(1);
    expect((await t.app.api.inject({ url: new URL(wo.photoUrl).pathname })).statusCode).toBe(401);
    await context.close();
  }, 60_000);

  it('lets an operator verify and close it from the board', async () => {
    const context = await browser.newContext(DESK);
    const page = await loginAs(context, 'zhao');
    expect(new URL(page.url()).pathname).toBe('/app/board');
    await expect.poll(() => page.textContent('table')).toContain('待验收');
    await shoot(page, '04-operator-board');
    await page.click(`a[href="/app/work-orders/${workOrderId}"]`);
    await page.fill('#vnote', '现场复查合格');
    await shoot(page, '05-operator-verify');
    await page.click('button:has-text("验收销号")');
    await expect.poll(() => page.textContent('main')).toContain('已销号');
    expect((await api('GET', `${V1}/work-orders/${workOrderId}`)).json()).toMatchObject({ state: 'closed', closedBy: 'zhao' });
    await context.close();
  }, 60_000);

  it('acknowledges an alert from a notification\'s signed link with one tap, without a login', async () => {
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    const link = t.app.people.ackLink(alertId, 'team-xingfu');
    await page.goto(link);
    await expect.poll(() => page.textContent('main')).toContain('电量低');
    await page.fill('#note', '今天下午换电池');
    await shoot(page, '06-ack-link');
    await page.click('button:has-text("确认告警")');
    await expect.poll(() => page.textContent('main')).toContain('已确认，谢谢！');
    expect(await t.app.health.alerts.get(alertId)).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'team-xingfu (link)' });
    // The same link with another alert's id is refused.
    await page.goto(link.replace(`/ack/${alertId}?`, `/ack/${alertId + 1000}?`));
    await expect.poll(() => page.textContent('main')).toContain('链接无效或已过期');
    await context.close();
  }, 60_000);

  it('shows a viewer everything and no way to change it; the API refuses the viewer too', async () => {
    const context = await browser.newContext(DESK);
    const page = await loginAs(context, 'chen', '/app/alerts?state=firing');
    await expect.poll(() => page.textContent('main')).toContain('只读账号');
    expect(await page.locator('form[data-api]').count()).toBe(0);
    await page.goto(`${base}/app/work-orders/${workOrderId}`);
    expect(await page.locator('form[data-api]').count()).toBe(0);
    await shoot(page, '07-viewer');
    // Even a hand-made request from the viewer's session (with its CSRF token) is refused.
    const status = await page.evaluate(async (id) => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { content: string } } }).document;
      const csrf = doc.querySelector('meta[name=csrf]').content;
      const res = await fetch(`/api/v1/work-orders/${id}/reject`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify({ note: 'x' }) });
      return res.status;
    }, workOrderId);
    expect(status).toBe(403);
    await context.close();
  }, 60_000);

  it('takes a resident\'s report from the community\'s page into the team\'s ledger, once per place and problem', async () => {
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    const report = async (text: string) => {
      await page.goto(`${base}/app/report/xingfu`);
      await page.selectOption('#category', 'green_space_destroyed');
      await page.selectOption('#place', 'pav-7');
      await page.fill('#text', text);
      await page.setInputFiles('#photo', { name: 'veg.png', mimeType: 'image/png', buffer: PNG });
      await page.click('button[type=submit]');
      await page.waitForSelector('[data-thanks]:not([hidden])');
      return page.textContent('[data-reference]');
    };
    const first = await report('凉亭旁的草坪被挖开种了菜');
    await shoot(page, '08-resident-report');
    const second = await report('又种了一片');
    expect(first).toMatch(/^\d+-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(second).toBe(first); // the same place and problem, still open: one ledger entry
    const orders = (await api('GET', `${V1}/work-orders?community=xingfu`)).json() as Array<{ alertKind: string; title: string; alertId: number }>;
    const entries = orders.filter((o) => o.alertKind === 'resident_report');
    expect(entries).toHaveLength(1);
    expect(entries[0]!.title).toContain('凉亭旁的草坪被挖开种了菜');
    expect((await t.app.health.alerts.get(entries[0]!.alertId))!.details).toMatchObject({ occurrences: 2, category: 'green_space_destroyed', place: 'pav-7', photo: expect.stringMatching(/^reports\//) });
    await page.click('[data-state-link]');
    await expect.poll(() => page.textContent('main')).toContain('已受理');
    await context.close();
  }, 60_000);

  it('reads in English when asked', async () => {
    const context = await browser.newContext({ ...PHONE, locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${base}/app/login`);
    expect(await page.textContent('h1')).toBe('Log in');
    await context.close();
  });

  it('lets an operator water a zone now and recalibrate a facility from their pages', async () => {
    await eventually(async () => ((await api('GET', `${V1}/facilities/pav-7`)).json() as { current: unknown }).current ?? undefined, 5_000, 'the pavilion\'s angles');
    const context = await browser.newContext(DESK);
    const page = await loginAs(context, 'zhao', '/app/places');
    await page.click('a[href="/app/zones/lawn-1"]');
    await expect.poll(() => page.textContent('[data-median]')).toBe('18.5 %');
    expect(await page.textContent('main')).toContain('soil-1a');
    // The inventory's names, as a user reads them (the ids stay beside them).
    expect(await page.textContent('h1')).toContain('中心草坪');
    expect(await page.textContent('main')).toContain('幸福家园');
    await page.fill('#minutes', '5');
    await shoot(page, '09-operator-zone');
    await page.click('button:has-text("立即浇水")');
    await expect.poll(() => page.locator('tr[data-run]').count()).toBe(1);
    expect(await page.textContent('tr[data-run]')).toContain('人工立即浇水');
    const [start] = (await api('GET', `${V1}/zones/lawn-1/decisions?action=start`)).json() as Array<{ reason: string; actor: string; inputs: Record<string, unknown> }>;
    expect(start).toMatchObject({ reason: 'operator_water_now', actor: 'zhao' });

    await page.goto(`${base}/app/facilities/pav-7`);
    expect(await page.textContent('[data-current]')).toContain('俯仰 2.50° · 横滚 0.40°');
    expect(await page.textContent('h1')).toContain('木质凉亭');
    await shoot(page, '10-operator-facility');
    await page.click('button:has-text("重新校准")');
    await expect.poll(() => page.textContent('[data-tilt]')).toBe('0.00°');
    const facility = (await api('GET', `${V1}/facilities/pav-7`)).json() as { thresholds: { baseline: unknown } };
    expect(facility.thresholds.baseline).toEqual({ pitch: 2.5, roll: 0.4 });
    await context.close();
  }, 60_000);

  it('lets an operator download the month\'s scorecard as CSV and as Excel', async () => {
    const context = await browser.newContext(DESK);
    const page = await loginAs(context, 'zhao', `/app/scorecard?month=${month}`);
    await expect.poll(() => page.textContent('table[data-communities]')).toContain('xingfu');
    expect(await page.textContent('table[data-communities]')).toMatch(/幸福家园[\s\S]*洮北区/);
    await shoot(page, '11-operator-scorecard');
    const download = async (kind: string) => {
      const [file] = await Promise.all([page.waitForEvent('download'), page.click(`a[data-export="${kind}"]`)]);
      expect(file.suggestedFilename()).toBe(`scorecard-${month}.${kind}`);
      return readFileSync(await file.path());
    };
    const csv = (await download('csv')).toString('utf8').replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(csv[0]).toMatch(/^月份 month,排名 rank,小区 community,区 district,得分 score,/);
    expect(csv.slice(1).map((line) => line.split(',').slice(0, 4))).toEqual([[month, '1', 'xingfu', 'taobei']]);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(await download('xlsx') as never);
    const [communities, districts] = book.worksheets.map((sheet) => sheet.getSheetValues().slice(1).map((row) => (row as unknown[]).slice(1)));
    expect(communities![0]!.slice(0, 4)).toEqual(['月份 month', '排名 rank', '小区 community', '区 district']);
    expect(communities!.slice(1).map((r) => r.slice(0, 4))).toEqual([[month, 1, 'xingfu', 'taobei']]);
    expect(districts!.slice(1).map((r) => r.slice(0, 3))).toEqual([[1, 'taobei', 1]]);
    await context.close();
  }, 60_000);

  it('shows a viewer the zone, facility and scorecard pages with no button, and the API refuses the viewer\'s changes', async () => {
    const context = await browser.newContext(DESK);
    const page = await loginAs(context, 'chen', '/app/zones/lawn-1');
    await expect.poll(() => page.textContent('main')).toContain('只读账号');
    expect(await page.locator('form[data-api]').count()).toBe(0);
    await shoot(page, '12-viewer-zone');
    for (const url of ['/app/facilities/pav-7', `/app/scorecard?month=${month}`]) {
      await page.goto(`${base}${url}`);
      expect(await page.locator('form[data-api]').count(), url).toBe(0);
    }
    const statuses = await page.evaluate(async () => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { content: string } } }).document;
      const headers = { 'content-type': 'application/json', 'x-csrf-token': doc.querySelector('meta[name=csrf]').content };
      const post = async (url: string, body: object) => (await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) })).status;
      return [await post('/api/v1/zones/lawn-1/water-now', {}), await post('/api/v1/zones/lawn-1/pause', { days: 1 }), await post('/api/v1/facilities/pav-7/calibrate', {})];
    });
    expect(statuses).toEqual([403, 403, 403]);
    await context.close();
  }, 60_000);

  it('lets a user change their password on a phone and log in with the new one only', async () => {
    const context = await browser.newContext(PHONE);
    const page = await loginAs(context, 'sun', '/app/password');
    await page.fill('#current', PASSWORD);
    await page.fill('#new', 'a brand new password');
    await page.fill('#repeat', 'a brand new passwort');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('.error')).toContain('两次输入的新密码不一致');
    await page.fill('#repeat', 'a brand new password');
    await shoot(page, '13-password-phone');
    await Promise.all([page.waitForURL('**/app/login?changed=1'), page.click('button[type=submit]')]);
    expect(await page.textContent('main')).toContain('密码已修改');
    await page.fill('#name', 'sun');
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('.error')).toContain('unknown name or wrong password');
    await page.fill('#password', 'a brand new password');
    await Promise.all([page.waitForURL('**/app/my'), page.click('button[type=submit]')]);
    await context.close();
  }, 60_000);

  it('shows a zone on a phone, and prints a community\'s report page as a QR code', async () => {
    const context = await browser.newContext(PHONE);
    const page = await loginAs(context, 'zhao', '/app/zones/lawn-1');
    await expect.poll(() => page.textContent('[data-median]')).toBe('18.5 %');
    await shoot(page, '14-operator-zone-phone');
    await page.goto(`${base}/app/report/xingfu`);
    await page.click('a[href="/app/report/xingfu/qr"]');
    await expect.poll(() => page.locator('figure[data-qr] svg').count()).toBe(1);
    expect(await page.textContent('[data-url]')).toBe(`${base}/app/report/xingfu`);
    await shoot(page, '15-report-qr-poster');
    await context.close();
  }, 60_000);
});
