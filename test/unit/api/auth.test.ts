import { describe, expect, it } from 'vitest';
import { createAccessControl } from '../../../api/auth.ts';
import { canAccessDistrict } from '../../../api/scope.ts';
import { createManualClock } from '../../../lib/clock.ts';
import type { Principal } from '../../../contracts/access.ts';

const viewer: Principal = { tokenId: 't1', name: 'grafana', role: 'viewer', districts: ['north'] };

function setup() {
  const clock = createManualClock(0);
  const failures: string[] = [];
  const access = createAccessControl({
    adminToken: 'bootstrap-token-0123456789',
    resolveToken: (token) => (token === 'gst_viewer' ? viewer : undefined),
    now: clock.now,
    failureLimits: { burst: 3, ratePerS: 1 / 20 },
    countFailure: (reason) => failures.push(reason),
  });
  return { access, clock };
}

describe('API authentication', () => {
  it.each([
    [undefined, { ok: false, status: 401, error: 'unauthorized' }],
    ['Basic abc', { ok: false, status: 401, error: 'unauthorized' }],
    ['Bearer ', { ok: false, status: 401, error: 'unauthorized' }],
    ['Bearer nope', { ok: false, status: 401, error: 'invalid_token' }],
    ['Bearer bootstrap-token-0123456789', { ok: true, principal: { tokenId: 'bootstrap', name: 'admin', role: 'admin' } }],
    ['Bearer gst_viewer', { ok: true, principal: viewer }],
  ])('%s', (header, expected) => {
    expect(setup().access.authenticate(header, '10.0.0.1')).toMatchObject(expected);
  });

  it('answers 429 with a retry delay once an address spent its failure budget, per address, and lets it recover', () => {
    const { access, clock } = setup();
    const statuses = Array.from({ length: 5 }, () => access.authenticate('Bearer guess', '10.0.0.1'));
    expect(statuses.map((s) => (s.ok ? 200 : s.status))).toEqual([401, 401, 401, 429, 429]);
    expect(statuses[4]).toMatchObject({ retryAfterS: 20 });
    expect(access.authenticate('Bearer guess', '10.0.0.2')).toMatchObject({ status: 401 }); // another address
    expect(access.authenticate('Bearer gst_viewer', '10.0.0.1')).toMatchObject({ ok: true }); // a valid token still works
    clock.advance(20_000);
    expect(access.authenticate('Bearer guess', '10.0.0.1')).toMatchObject({ status: 401 });
    expect(access.authenticate('Bearer guess', '10.0.0.1')).toMatchObject({ status: 429 });
  });

  it.each([
    [undefined, 'north', true],
    [{ ...viewer, districts: undefined }, undefined, true],
    [viewer, 'north', true],
    [viewer, 'south', false],
    [viewer, undefined, false],
  ])('district scope of %j over %s: %s', (principal, district, allowed) => {
    expect(canAccessDistrict(principal, district)).toBe(allowed);
  });
});
