import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../helpers/app.ts';

const V1 = '/api/v1';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const PASSWORD = 'correct horse battery';
const PROXY = '127.0.0.1';

// Behind a reverse proxy every connection comes from the proxy: the per-address budgets
// must count the client it names in X-Forwarded-For, and only when the proxy is trusted.
describe('GS_TRUST_PROXY: clients behind a trusted proxy have their own budgets', () => {
  let t: TestApp;
  const login = (password: string, client: string, peer = PROXY) => t.app.api.inject({
    method: 'POST', url: `${V1}/session`, remoteAddress: peer, headers: { 'x-forwarded-for': client }, payload: { name: 'wang', password },
  });
  const report = (client: string, text: string) => t.app.api.inject({
    method: 'POST', url: `${V1}/communities/c-p/reports`, remoteAddress: PROXY, headers: { 'x-forwarded-for': client }, payload: { category: 'other', text },
  });

  beforeAll(async () => {
    t = await startTestApp({ trustProxy: `${PROXY}, 10.0.0.0/8`, apiAuthFailureBurst: 3, apiAuthFailuresPerMin: 1, residentReportsPerHour: 1 });
    expect((await t.app.api.inject({ method: 'POST', url: `${V1}/users`, headers: admin, payload: { name: 'wang', role: 'technician', password: PASSWORD } })).statusCode).toBe(201);
    await t.register({ id: 'soil-p', kind: 'soil', place: { district: 'd-1', community: 'c-p', zone: 'z-p' } });
  });
  afterAll(async () => t?.stop());

  it('gives each forwarded client its own login failure budget', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await login('guessing wrong', '198.51.100.1')).statusCode);
    expect(codes.at(-1)).toBe(429);
    expect((await login(PASSWORD, '198.51.100.1')).statusCode).toBe(429);
    // The guesser's budget is theirs, not the whole city's behind the same proxy.
    expect((await login(PASSWORD, '198.51.100.2')).statusCode).toBe(200);
    // A chain through a trusted inner proxy still names the client.
    expect((await login(PASSWORD, '198.51.100.3, 10.1.2.3')).statusCode).toBe(200);
    expect((await login(PASSWORD, '198.51.100.1, 10.1.2.3')).statusCode).toBe(429);
  });

  it('gives each forwarded client its own residents\' report limit', async () => {
    expect((await report('198.51.100.11', 'bench broken')).statusCode).toBe(201);
    expect((await report('198.51.100.11', 'and the fence')).statusCode).toBe(429);
    expect((await report('198.51.100.12', 'lawn dug up for vegetables')).statusCode).toBe(201);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const direct = '203.0.113.9';
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await login('guessing wrong', `198.51.100.${50 + i}`, direct)).statusCode);
    expect(codes.at(-1)).toBe(429);
    expect((await login(PASSWORD, '198.51.100.99', direct)).statusCode).toBe(429);
  });
});

// A hop count: Fastify 5.12 alone would read a bare number as "trust nothing" (it cannot
// check the peer), so the setting must reach it as a function of the hop.
describe('GS_TRUST_PROXY as a hop count', () => {
  let t: TestApp;
  const login = (password: string, forwarded: string) => t.app.api.inject({
    method: 'POST', url: `${V1}/session`, remoteAddress: '10.9.9.9', headers: { 'x-forwarded-for': forwarded }, payload: { name: 'wang', password },
  });

  beforeAll(async () => {
    t = await startTestApp({ trustProxy: '1', apiAuthFailureBurst: 3, apiAuthFailuresPerMin: 1 });
    expect((await t.app.api.inject({ method: 'POST', url: `${V1}/users`, headers: admin, payload: { name: 'wang', role: 'technician', password: PASSWORD } })).statusCode).toBe(201);
  });
  afterAll(async () => t?.stop());

  it('counts the address one hop behind the connecting proxy, and no further', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await login('guessing wrong', `203.0.113.${i}, 198.51.100.1`)).statusCode);
    // Only the last forwarded address counts: what the client wrote before it changes nothing.
    expect(codes.at(-1)).toBe(429);
    expect((await login(PASSWORD, '198.51.100.2')).statusCode).toBe(200);
  });
});
