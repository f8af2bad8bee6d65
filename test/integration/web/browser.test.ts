import { existsSync, mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../helpers/app.ts';

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
const DESK = { viewport: { width: 1280, height: 800 }, locale: 'zh-CN' };
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
    t = await startTestApp();
    base = `http://127.0.0.1:${t.app.httpPort}`;
    for (const [name, role] of [['wang', 'technician'], ['zhao', 'operator'], ['chen', 'viewer']] as const) {
      expect((await api('POST', `${V1}/users`, { name, role, password: PASSWORD })).statusCode).toBe(201);
    }
    await t.register({ id: 'tilt-7', kind: 'tilt', place: { district: 'taobei', community: 'xingfu', facility: 'pav-7', facilityType: 'pavilion' } });
    const alert = t.app.health.alerts.apply({
      action: 'raise', kind: 'facility_impact', subject: 'pav-7', severity: 'critical', message: '凉亭 pav-7 受撞击（6° 变化，5 g 冲击）',
      communityId: 'xingfu', districtId: 'taobei', details: { deltaDeg: 6, shockG: 5 }, at: Date.now(),
    })!;
    workOrderId = t.app.health.workOrders.forAlert(alert.id)!.id;
    expect((await api('POST', `${V1}/work-orders/${workOrderId}/assign`, { assignee: 'wang' })).statusCode).toBe(200);
    alertId = t.app.health.alerts.apply({ action: 'raise', kind: 'battery_low', subject: 'tilt-7', severity: 'warning', message: '设备 tilt-7 电量低（15%）', communityId: 'xingfu', districtId: 'taobei', at: Date.now() })!.id;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  }, 60_000);
  afterAll(async () => {
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
    await expect.poll(() => page.textContent('main')).toContain('凉亭 pav-7 受撞击');
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
    expect(t.app.health.alerts.get(alertId)).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'team-xingfu (link)' });
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
    expect(t.app.health.alerts.get(entries[0]!.alertId)!.details).toMatchObject({ occurrences: 2, category: 'green_space_destroyed', place: 'pav-7', photo: expect.stringMatching(/^reports\//) });
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

});
