import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../helpers/app.ts';
import { ackLinkUrl, signAckLink } from '../../../lib/signed-link.ts';

const V1 = '/api/v1';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const PASSWORD = 'correct horse battery';

describe('people log in; a notification\'s signed link acknowledges without a login', () => {
  let t: TestApp;
  let seq = 0;
  const alert = async () => (await t.app.health.alerts.apply({ action: 'raise', kind: 'battery_low', subject: `soil-${++seq}`, severity: 'warning', message: 'battery 15 %', communityId: 'c-1', districtId: 'd-1', at: Date.now() }))!.id;
  const login = async (name: string, password = PASSWORD, remoteAddress?: string) => {
    const res = await t.app.api.inject({ method: 'POST', url: `${V1}/session`, payload: { name, password }, ...(remoteAddress ? { remoteAddress } : {}) });
    const cookie = String(res.headers['set-cookie'] ?? '');
    return { res, cookie: cookie.split(';')[0]!, setCookie: cookie, csrf: res.statusCode === 200 ? (res.json() as { csrfToken: string }).csrfToken : '' };
  };

  beforeAll(async () => {
    t = await startTestApp({ apiAuthFailureBurst: 4, apiAuthFailuresPerMin: 1, residentReportsPerHour: 3 });
    for (const [name, role] of [['wang', 'technician'], ['zhou', 'viewer'], ['li', 'technician']] as const) {
      expect((await t.app.api.inject({ method: 'POST', url: `${V1}/users`, headers: admin, payload: { name, role, password: PASSWORD } })).statusCode).toBe(201);
    }
  });
  afterAll(async () => t?.stop());

  it('logs in with a session cookie: HttpOnly, SameSite=Lax, no password hash anywhere', async () => {
    const { res, setCookie, cookie } = await login('wang');
    expect(res.statusCode).toBe(200);
    expect(setCookie).toMatch(/^gs_session=[\w-]{40,}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    expect((await t.app.api.inject({ url: `${V1}/session`, headers: { cookie } })).json()).toMatchObject({ name: 'wang', role: 'technician', csrfToken: expect.any(String) });
    const users = (await t.app.api.inject({ url: `${V1}/users`, headers: admin })).body;
    expect(users).toContain('wang');
    expect(users).not.toMatch(/scrypt|password/i);
  });

  it('refuses a state change made with the session but without its CSRF token, and records the user as the actor', async () => {
    const { cookie, csrf } = await login('wang');
    const id = await alert();
    const bare = await t.app.api.inject({ method: 'POST', url: `${V1}/alerts/${id}/ack`, headers: { cookie }, payload: {} });
    expect(bare.statusCode).toBe(403);
    expect(bare.json()).toMatchObject({ error: 'csrf' });
    const wrong = await t.app.api.inject({ method: 'POST', url: `${V1}/alerts/${id}/ack`, headers: { cookie, 'x-csrf-token': `${csrf}x` }, payload: {} });
    expect(wrong.statusCode).toBe(403);
    const ok = await t.app.api.inject({ method: 'POST', url: `${V1}/alerts/${id}/ack`, headers: { cookie, 'x-csrf-token': csrf }, payload: { by: 'someone-else' } });
    expect(ok.json()).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'wang' });
  });

  it('holds a user to their role: a viewer reads but changes nothing', async () => {
    const { cookie, csrf } = await login('zhou');
    expect((await t.app.api.inject({ url: `${V1}/alerts`, headers: { cookie } })).statusCode).toBe(200);
    expect((await t.app.api.inject({ method: 'POST', url: `${V1}/alerts/${await alert()}/ack`, headers: { cookie, 'x-csrf-token': csrf }, payload: {} })).statusCode).toBe(403);
  });

  it('changes a password only with the current one, and ends the user\'s sessions', async () => {
    const { cookie, csrf } = await login('li');
    const change = (body: object, headers = { cookie, 'x-csrf-token': csrf }) => t.app.api.inject({ method: 'POST', url: `${V1}/users/li/password`, headers, payload: body });
    expect((await change({ currentPassword: 'not it at all', newPassword: 'a new long password' })).statusCode).toBe(403);
    expect((await t.app.api.inject({ method: 'POST', url: `${V1}/users/wang/password`, headers: { cookie, 'x-csrf-token': csrf }, payload: { currentPassword: PASSWORD, newPassword: 'taking over wang' } })).statusCode).toBe(403);
    expect((await change({ currentPassword: PASSWORD, newPassword: 'a new long password' })).statusCode).toBe(204);
    expect((await t.app.api.inject({ url: `${V1}/session`, headers: { cookie } })).statusCode).toBe(401);
    expect((await login('li', 'a new long password')).res.statusCode).toBe(200);
  });

  it('asks an admin for their own current password too, and resets another user\'s without it', async () => {
    expect((await t.app.api.inject({ method: 'POST', url: `${V1}/users`, headers: admin, payload: { name: 'chen', role: 'admin', password: PASSWORD } })).statusCode).toBe(201);
    expect((await t.app.api.inject({ method: 'POST', url: `${V1}/users`, headers: admin, payload: { name: 'sun', role: 'technician', password: PASSWORD } })).statusCode).toBe(201);
    const { cookie, csrf } = await login('chen', PASSWORD, '192.0.2.40');
    const change = (who: string, body: object) => t.app.api.inject({ method: 'POST', url: `${V1}/users/${who}/password`, remoteAddress: '192.0.2.40', headers: { cookie, 'x-csrf-token': csrf }, payload: body });
    // A session taken from an admin must not be able to take the account over by a "reset".
    expect((await change('chen', { newPassword: 'an admin taken over' })).statusCode).toBe(403);
    expect((await change('chen', { currentPassword: 'not the current one', newPassword: 'an admin taken over' })).statusCode).toBe(403);
    expect((await login('chen', 'an admin taken over', '192.0.2.41')).res.statusCode).toBe(401);
    // Another user's password: an admin's reset, no current password asked.
    expect((await change('sun', { newPassword: 'reset by the admin' })).statusCode).toBe(204);
    expect((await login('sun', 'reset by the admin', '192.0.2.41')).res.statusCode).toBe(200);
    expect((await change('chen', { currentPassword: PASSWORD, newPassword: 'chen changed it' })).statusCode).toBe(204);
    expect((await login('chen', 'chen changed it', '192.0.2.41')).res.statusCode).toBe(200);
  });

  it('logs out', async () => {
    const { cookie } = await login('wang');
    const out = await t.app.api.inject({ method: 'DELETE', url: `${V1}/session`, headers: { cookie } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await t.app.api.inject({ url: `${V1}/session`, headers: { cookie } })).statusCode).toBe(401);
  });

  it('rate-limits failed logins per address, as wrong tokens are, and past the budget a right guess gets no further than a wrong one', async () => {
    const guesser = '192.0.2.10';
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await login('wang', 'guessing wrong', guesser)).res.statusCode);
    expect(codes.slice(0, 2)).toEqual([401, 401]);
    expect(codes.at(-1)).toBe(429);
    const right = await login('wang', PASSWORD, guesser);
    expect(right.res.statusCode).toBe(429);
    expect(right.setCookie).toBe('');
    // Another address is not held back by this one's guessing.
    expect((await login('wang', PASSWORD, '192.0.2.11')).res.statusCode).toBe(200);
  });

  it('ignores X-Forwarded-For from a direct client when no proxy is trusted, so a forged one escapes no budget', async () => {
    const guesser = '192.0.2.30';
    const forged = (i: number) => t.app.api.inject({
      method: 'POST', url: `${V1}/session`, remoteAddress: guesser,
      headers: { 'x-forwarded-for': `198.51.100.${i}` }, payload: { name: 'wang', password: 'guessing wrong' },
    });
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await forged(i)).statusCode);
    expect(codes.at(-1)).toBe(429);
    expect((await t.app.api.inject({ method: 'POST', url: `${V1}/session`, remoteAddress: guesser, headers: { 'x-forwarded-for': '198.51.100.200' }, payload: { name: 'wang', password: PASSWORD } })).statusCode).toBe(429);
  });

  it('counts a wrong current password against the same budget, so a taken session cannot guess its owner\'s password', async () => {
    const { cookie, csrf } = await login('zhou', PASSWORD, '192.0.2.20');
    const change = (currentPassword: string) => t.app.api.inject({
      method: 'POST', url: `${V1}/users/zhou/password`, remoteAddress: '192.0.2.20',
      headers: { cookie, 'x-csrf-token': csrf }, payload: { currentPassword, newPassword: 'someone else now' },
    });
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await change(`guess number ${i}`)).statusCode);
    expect(codes.slice(0, 2)).toEqual([403, 403]);
    expect(codes.at(-1)).toBe(429);
    expect((await change(PASSWORD)).statusCode).toBe(429);
    expect((await login('zhou', PASSWORD, '192.0.2.21')).res.statusCode).toBe(200);
  });

  it('keeps work-order photos only when they are images within the size limit, and serves them to readers only', async () => {
    const wo = (await t.app.health.workOrders.forAlert(await alert()))!;
    const upload = (bytes: Buffer, type = 'image/jpeg', headers: Record<string, string> = admin) => {
      const boundary = 'b0undary';
      const payload = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="photo"; filename="p.jpg"\r\nContent-Type: ${type}\r\n\r\n`), bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]);
      return t.app.api.inject({ method: 'POST', url: `${V1}/work-orders/${wo.id}/photos`, headers: { ...headers, 'content-type': `multipart/form-data; boundary=${boundary}` }, payload });
    };
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(1000, 1)]);
    expect((await upload(Buffer.from('<script>alert(1)</script>'), 'image/jpeg')).statusCode).toBe(400);
    expect((await upload(Buffer.concat([jpeg, Buffer.alloc(11 * 1024 * 1024)]))).statusCode).toBe(413);
    const ok = await upload(jpeg);
    expect(ok.statusCode, ok.body).toBe(201);
    const { url } = ok.json() as { url: string };
    const got = await t.app.api.inject({ url, headers: admin });
    expect(got.headers['content-type']).toBe('image/jpeg');
    expect(got.rawPayload.equals(jpeg)).toBe(true);
    expect((await t.app.api.inject({ url })).statusCode).toBe(401);
    expect([400, 404]).toContain((await t.app.api.inject({ url: url.replace(/[a-f0-9]{24}\.jpg/, '..%2F..%2Flink-key'), headers: admin })).statusCode);
  });

  it('takes residents\' reports without a login, refuses junk, limits each address, and shows only the state by reference', async () => {
    await t.register({ id: 'soil-r', kind: 'soil', place: { district: 'd-1', community: 'c-r', zone: 'z-r' } });
    const report = (body: object, community = 'c-r') => t.app.api.inject({ method: 'POST', url: `${V1}/communities/${community}/reports`, payload: body });
    expect((await report({ category: 'other', text: 'x'.repeat(1001) })).statusCode).toBe(400);
    expect((await report({ category: 'other', text: 'fence down' }, 'nowhere')).statusCode).toBe(404);
    const ok = await report({ category: 'watering_problem', text: '喷头一直在漏水', place: 'z-r' });
    expect(ok.statusCode, ok.body).toBe(201);
    const { reference } = ok.json() as { reference: string };
    expect((await report({ category: 'other', text: 'one too many' })).statusCode).toBe(429);
    const forged = await t.app.api.inject({ method: 'POST', url: `${V1}/communities/c-r/reports`, headers: { 'x-forwarded-for': '198.51.100.7' }, payload: { category: 'other', text: 'from "another" address' } });
    expect(forged.statusCode).toBe(429);
    expect((await t.app.api.inject({ url: `${V1}/reports/${reference}` })).json()).toEqual({ reference, state: 'received', receivedAt: expect.any(Number), category: 'watering_problem' });
    const [id] = reference.split('-');
    expect((await t.app.api.inject({ url: `${V1}/reports/${id}-AAAAAAAAAAAA` })).statusCode).toBe(404);
    expect((await t.app.api.inject({ url: `${V1}/reports/${id}-AAAA%2F..%2FAA` })).statusCode).toBe(400);
    const wo = (await t.app.health.workOrders.forAlert(Number(id)))!;
    expect(wo).toMatchObject({ communityId: 'c-r', state: 'open', alertKind: 'resident_report' });
  });

  describe('the signed acknowledge link', () => {
    const key = () => Buffer.from(readFileSync(join(t.dataDir, 'link-key'), 'utf8').trim(), 'hex');
    const proofOf = (url: string) => Object.fromEntries(new URL(url).searchParams) as { r: string; x: string; s: string };
    const tap = (id: number, body: object) => t.app.api.inject({ method: 'POST', url: `${V1}/alerts/${id}/link-ack`, payload: body });

    it('lives on the public URL derived from the bound port and names the alert and its recipient', async () => {
      const url = new URL(t.app.people.ackLink(42, 'team-north'));
      expect(url.origin).toBe(`http://127.0.0.1:${t.app.httpPort}`);
      expect(url.pathname).toBe('/app/ack/42');
      expect(url.searchParams.get('r')).toBe('team-north');
      expect(Number(url.searchParams.get('x')) * 1000).toBeGreaterThan(Date.now() + 2 * 24 * 3_600_000);
    });

    it('acknowledges with one tap and a note, without a login, as the link\'s recipient; a second tap changes nothing', async () => {
      const id = await alert();
      const proof = proofOf(t.app.people.ackLink(id, 'team-north'));
      expect((await t.app.api.inject({ url: `${V1}/alerts/${id}/link?${new URLSearchParams(proof)}` })).json()).toMatchObject({ id, state: 'firing', message: 'battery 15 %' });
      expect((await tap(id, { ...proof, note: '马上到' })).json()).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'team-north (link)' });
      expect((await tap(id, proof)).json()).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'team-north (link)' });
      const transitions = (await t.app.api.inject({ url: `${V1}/alerts/${id}`, headers: admin })).json().transitions as Array<{ to: string; note: string | null }>;
      expect(transitions.at(-1)).toMatchObject({ to: 'acknowledged', note: '马上到' });
    });

    it('refuses a link used for another alert, tampered with, or expired', async () => {
      const id = await alert();
      const other = await alert();
      const proof = proofOf(t.app.people.ackLink(id, 'team-north'));
      const refusals = [
        await tap(other, proof),
        await tap(id, { ...proof, r: 'team-south' }),
        await tap(id, { ...proof, x: String(Number(proof.x) + 3600) }),
        await tap(id, { ...proof, s: `${proof.s.slice(0, -2)}AA` }),
      ];
      expect(refusals.map((r) => r.statusCode)).toEqual([403, 403, 403, 403]);
      const past = { alertId: id, recipient: 'team-north', expiresAtS: Math.floor(Date.now() / 1000) - 60 };
      const expired = await tap(id, proofOf(ackLinkUrl('http://x', past, signAckLink(key(), past))));
      expect(expired.statusCode).toBe(403);
      expect(expired.json().message).toContain('expired');
      expect((await t.app.health.alerts.get(id))!.state).toBe('firing');
      expect((await t.app.health.alerts.get(other))!.state).toBe('firing');
    });
  });
});
