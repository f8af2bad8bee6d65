import { describe, expect, it } from 'vitest';
import { createAuthenticator, type AuthenticatorDeps } from '../../../broker/authenticate.ts';
import { createCredentialCache } from '../../../broker/credential-cache.ts';
import type { DeviceInfo } from '../../../contracts/device.ts';
import type { ServiceAccount } from '../../../registry/service-accounts.ts';

const deviceInfo = (id: string, disabled = false): DeviceInfo => ({
  id, kind: 'soil', devEui: undefined, reportIntervalS: 900, disabled, districtId: 'd1', communityId: 'c1', zoneId: 'z1',
  plant: undefined, facilityId: undefined, facilityType: undefined, baselinePitch: undefined, baselineRoll: undefined,
});

/**
 * Fakes for the registries: secrets in the clear, and a count of every check. The ids in
 * `keyed` have keyed hashes (checked at once); the others legacy scrypt hashes (the queue).
 */
function setup(options: { keyed?: string[]; perAddress?: { burst: number; ratePerS: number } } = {}) {
  const devices = new Map<string, DeviceInfo>([['soil-1', deviceInfo('soil-1')], ['off-1', deviceInfo('off-1', true)], ['soil-k', deviceInfo('soil-k')]]);
  const secrets = new Map([['soil-1', 's3cret'], ['off-1', 'x'], ['cs', 'svc-secret'], ['soil-k', 'k3yed']]);
  const services = new Map<string, ServiceAccount>([['cs', { id: 'cs', kind: 'chirpstack', applications: ['a1'], disabled: false, createdAt: '' }]]);
  const keyed = new Set(options.keyed ?? ['soil-k']);
  const calls = { slow: 0, dummy: 0, cache: 0, keyed: 0, scrypt: 0, duringVerify: undefined as undefined | (() => void) };
  const deps: AuthenticatorDeps = {
    devices: {
      get: (id) => devices.get(id),
      hasKeyedHash: (id) => keyed.has(id),
      async authenticate(id, secret) {
        calls.slow += 1;
        const device = devices.get(id);
        calls.duringVerify?.();
        return device && !device.disabled && secrets.get(id) === secret ? device : undefined;
      },
    },
    services: {
      get: (id) => services.get(id),
      hasKeyedHash: (id) => keyed.has(id),
      async authenticate(id, secret) {
        calls.slow += 1;
        return secrets.get(id) === secret ? services.get(id) : undefined;
      },
    },
    cache: createCredentialCache({ key: Buffer.alloc(32, 1), maxEntries: 10 }),
    dummyVerify: () => { calls.dummy += 1; },
    countCheck: (via) => { calls[via] += 1; },
    ...(options.perAddress ? { slowChecks: { concurrency: 2, queue: 256, perAddress: options.perAddress } } : {}),
  };
  return { authenticate: createAuthenticator(deps), devices, secrets, calls, keyed };
}

describe('broker authentication', () => {
  it.each([
    ['no password', 'soil-1', 'soil-1', undefined, 'no_credentials', 4],
    ['client id mismatch', 'other', 'soil-1', 's3cret', 'client_id_mismatch', 2],
    ['wrong secret', 'soil-1', 'soil-1', 'nope', 'bad_credentials', 4],
    ['unknown device', 'ghost', 'ghost', 'nope', 'bad_credentials', 4],
    ['disabled device', 'off-1', 'off-1', 'x', 'device_disabled', 4],
    ['service with a device-like client id', 'soil-1', 'cs', 'svc-secret', 'client_id_mismatch', 2],
    // Without the right secret a client id tells nothing: a service account name and an
    // unknown name are refused alike.
    ['a wrong secret for a service account under another client id', 'x', 'cs', 'nope', 'bad_credentials', 4],
    ['an unknown name under another client id', 'x', 'ghost', 'nope', 'bad_credentials', 4],
  ] as const)('refuses %s', async (_what, clientId, username, password, reason, returnCode) => {
    const { authenticate } = setup();
    expect(await authenticate(clientId, username, password)).toEqual({ ok: false, reason, returnCode });
  });

  it('spends a full-cost check on unknown and disabled users, so timing does not tell them from a wrong secret', async () => {
    const { authenticate, calls } = setup();
    await authenticate('ghost', 'ghost', 'x');
    await authenticate('off-1', 'off-1', 'x');
    expect(calls.dummy).toBe(2);
  });

  it('answers a reconnect from the cache, but never caches a wrong secret', async () => {
    const { authenticate, calls } = setup();
    for (let i = 0; i < 5; i++) expect(await authenticate('soil-1', 'soil-1', 's3cret')).toEqual({ ok: true, identity: { role: 'device', deviceId: 'soil-1' } });
    expect(calls).toMatchObject({ slow: 1, cache: 4 });
    for (let i = 0; i < 3; i++) expect((await authenticate('soil-1', 'soil-1', 'wrong')).ok).toBe(false);
    expect(calls.slow).toBe(4);
  });

  it('misses the cache once the registry replaced the device (rotation, disabling)', async () => {
    const { authenticate, devices, secrets, calls } = setup();
    await authenticate('soil-1', 'soil-1', 's3cret');
    secrets.set('soil-1', 'new');
    devices.set('soil-1', deviceInfo('soil-1'));
    expect((await authenticate('soil-1', 'soil-1', 's3cret')).ok).toBe(false);
    expect((await authenticate('soil-1', 'soil-1', 'new')).ok).toBe(true);
    devices.set('soil-1', deviceInfo('soil-1', true));
    expect(await authenticate('soil-1', 'soil-1', 'new')).toMatchObject({ ok: false, reason: 'device_disabled' });
    expect(calls.cache).toBe(0);
  });

  it('decides again when the device is disabled while its secret is being checked', async () => {
    const { authenticate, devices, calls } = setup();
    calls.duringVerify = () => devices.set('soil-1', deviceInfo('soil-1', true));
    expect(await authenticate('soil-1', 'soil-1', 's3cret')).toMatchObject({ ok: false, reason: 'device_disabled' });
  });

  it('gives a service account its confined identity; client ids may extend its id after a slash', async () => {
    const { authenticate } = setup();
    const expected = { ok: true, identity: { role: 'service', name: 'cs', kind: 'chirpstack', applications: ['a1'] } };
    expect(await authenticate('cs', 'cs', 'svc-secret')).toEqual(expected);
    expect(await authenticate('cs/worker-2', 'cs', 'svc-secret')).toEqual(expected);
  });
});

describe('keyed hashes: checked at once, under the same budget', () => {
  const at = (address: string) => ({ address });

  it('checks a keyed secret without the scrypt queue, and never caches it', async () => {
    const { authenticate, calls } = setup();
    for (let i = 0; i < 3; i++) expect(await authenticate('soil-k', 'soil-k', 'k3yed')).toEqual({ ok: true, identity: { role: 'device', deviceId: 'soil-k' } });
    expect(await authenticate('soil-k', 'soil-k', 'wrong')).toMatchObject({ ok: false, reason: 'bad_credentials', returnCode: 4 });
    expect(calls).toMatchObject({ keyed: 4, scrypt: 0, cache: 0 });
  });

  it('takes unknown names the path a wrong keyed secret takes: one keyed check each, no scrypt', async () => {
    const { authenticate, calls } = setup();
    expect(await authenticate('ghost', 'ghost', 'x')).toMatchObject({ ok: false, reason: 'bad_credentials', returnCode: 4 });
    expect(await authenticate('soil-k', 'soil-k', 'x')).toMatchObject({ ok: false, reason: 'bad_credentials', returnCode: 4 });
    expect(calls).toMatchObject({ dummy: 1, keyed: 2, scrypt: 0 });
  });

  it.each([
    ['wrong keyed secrets', 'soil-k'],
    ['unknown names', 'ghost'],
    ['wrong legacy secrets', 'soil-1'],
  ])('charges %s to the address: past its burst even the right secret is refused there, not elsewhere', async (_what, name) => {
    const { authenticate } = setup({ perAddress: { burst: 3, ratePerS: 0.001 } });
    for (let i = 0; i < 3; i++) expect(await authenticate(name, name, 'wrong', at('10.0.0.9'))).toMatchObject({ reason: 'bad_credentials' });
    expect(await authenticate('soil-k', 'soil-k', 'k3yed', at('10.0.0.9'))).toEqual({ ok: false, reason: 'over_budget', returnCode: 3 });
    expect((await authenticate('soil-k', 'soil-k', 'k3yed', at('10.0.0.10'))).ok).toBe(true);
  });

  it('lets a device whose legacy hash was upgraded on its first login take the keyed path next time', async () => {
    const { authenticate, calls, keyed } = setup({ keyed: [] });
    calls.duringVerify = () => keyed.add('soil-1'); // what the registry does on a match (registry/secrets.ts)
    expect((await authenticate('soil-1', 'soil-1', 's3cret')).ok).toBe(true);
    calls.duringVerify = undefined;
    expect((await authenticate('soil-1', 'soil-1', 's3cret')).ok).toBe(true);
    expect(calls).toMatchObject({ scrypt: 1, keyed: 1, cache: 0 });
  });
});

describe('broker authentication under a flood of bad credentials', () => {
  /** Slow checks that finish only when released, so the test sees how many run at once. */
  function slowSetup(gate: { concurrency: number; queue: number }) {
    const running = { now: 0, max: 0, release: [] as Array<() => void> };
    const slow = async () => {
      running.now += 1;
      running.max = Math.max(running.max, running.now);
      await new Promise<void>((resolve) => running.release.push(resolve));
      running.now -= 1;
    };
    // Known devices whose hashes are legacy scrypt (the only checks the queue still runs):
    // unknown names take the keyed path now and never reach it.
    const authenticate = createAuthenticator({
      devices: { get: (id) => deviceInfo(id), hasKeyedHash: () => false, authenticate: async () => { await slow(); return undefined; } },
      services: { get: () => undefined, hasKeyedHash: () => true, authenticate: async () => undefined },
      cache: createCredentialCache({ key: Buffer.alloc(32, 1), maxEntries: 10 }),
      dummyVerify: () => undefined,
      countCheck: () => undefined,
      slowChecks: { ...gate, perAddress: { burst: 100, ratePerS: 1 } },
    });
    const drain = async () => {
      while (running.now > 0 || running.release.length > 0) {
        for (const release of running.release.splice(0)) release();
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    return { authenticate, running, drain };
  }

  it('runs few scrypt checks at once (the rest of libuv’s pool is the durable log’s) and refuses past a bounded queue', async () => {
    const { authenticate, running, drain } = slowSetup({ concurrency: 2, queue: 3 });
    const outcomes = Array.from({ length: 10 }, (_, i) => authenticate(`legacy-${i}`, `legacy-${i}`, 'x'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(running.now).toBe(2);
    await drain();
    const results = await Promise.all(outcomes);
    expect(running.max).toBe(2);
    expect(results.filter((r) => !r.ok && r.reason === 'bad_credentials')).toHaveLength(5);
    expect(results.filter((r) => !r.ok && r.reason === 'busy')).toHaveLength(5);
    expect(results.find((r) => !r.ok && r.reason === 'busy')).toEqual({ ok: false, reason: 'busy', returnCode: 3 });
  });
});
