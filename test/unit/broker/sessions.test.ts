import { describe, expect, it } from 'vitest';
import { createSessions } from '../../../broker/sessions.ts';
import { createDeviceStatus } from '../../../broker/device-status.ts';
import { createCredentialCache } from '../../../broker/credential-cache.ts';
import type { DeviceStatus } from '../../../contracts/commands.ts';

const client = (id: string) => ({ id, closes: 0, close() { this.closes += 1; } });

describe('sessions and revocation', () => {
  it('closes the live sessions of a revoked account, and only those', () => {
    const sessions = createSessions<ReturnType<typeof client>>();
    const [a, b, svc] = [client('soil-1'), client('soil-2'), client('cs/1')];
    for (const [c, identity] of [[a, { role: 'device', deviceId: 'soil-1' }], [b, { role: 'device', deviceId: 'soil-2' }], [svc, { role: 'service', name: 'cs', kind: 'chirpstack', applications: [] }]] as const) {
      sessions.authenticating(c);
      sessions.authenticated(c, identity);
      expect(sessions.registered(c)).toBe(true);
    }
    expect(sessions.revoke('soil-1', 'device')).toBe(1);
    expect(sessions.revoke('cs', 'service')).toBe(1);
    expect([a.closes, b.closes, svc.closes]).toEqual([1, 0, 1]);
    expect([sessions.isRevoked(a), sessions.isRevoked(b), sessions.isRevoked(svc)]).toEqual([true, false, true]);
  });

  it('closes a session whose account was revoked between the credential check and registration', () => {
    const sessions = createSessions<ReturnType<typeof client>>();
    const late = client('soil-1');
    sessions.authenticating(late);
    sessions.authenticated(late, { role: 'device', deviceId: 'soil-1' });
    sessions.revoke('soil-1', 'device'); // not registered yet: nothing to close now
    expect(late.closes).toBe(0);
    expect(sessions.registered(late)).toBe(false);
    expect(late.closes).toBe(1);
    const next = client('soil-1'); // a connection that starts after the revocation is not affected
    sessions.authenticating(next);
    sessions.authenticated(next, { role: 'device', deviceId: 'soil-1' });
    expect(sessions.registered(next)).toBe(true);
  });

  it('keeps the newer session registered when the older one ends after a takeover', () => {
    const sessions = createSessions<ReturnType<typeof client>>();
    const [old, fresh] = [client('soil-1'), client('soil-1')];
    sessions.registered(old);
    sessions.registered(fresh);
    sessions.ended(old);
    expect(sessions.current('soil-1')).toBe(fresh);
  });
});

describe('device status', () => {
  it('publishes online and offline, except the offline of a session taken over', () => {
    const published: Array<[string, DeviceStatus]> = [];
    const status = createDeviceStatus({ publish: (topic, body) => published.push([topic, body]), now: () => 42, defer: (flush) => flush() });
    const [old, fresh] = [{}, {}];
    status.online('soil-1');
    status.takeover(old);
    status.offline(old, 'soil-1');
    status.online('soil-1');
    status.takeover(undefined);
    status.offline(fresh, 'soil-1');
    expect(published).toEqual([
      ['gs/soil-1/status', { state: 'online', ts: 42 }],
      ['gs/soil-1/status', { state: 'online', ts: 42 }],
      ['gs/soil-1/status', { state: 'offline', ts: 42 }],
    ]);
    expect(status.isSuperseded(old)).toBe(true);
  });

  it('coalesces a turn: each device published once, its last state with the time it happened, after the turn', () => {
    const published: Array<[string, DeviceStatus]> = [];
    const flushes: Array<() => void> = [];
    let t = 0;
    const status = createDeviceStatus({ publish: (topic, body) => published.push([topic, body]), now: () => ++t, defer: (flush) => flushes.push(flush) });
    status.online('soil-1');
    status.online('soil-2');
    status.offline({}, 'soil-1');
    status.online('soil-1'); // dropped and back within the turn
    expect(published).toEqual([]);
    expect(flushes).toHaveLength(1); // one flush per turn, however many changes
    flushes[0]!();
    expect(published).toEqual([
      ['gs/soil-2/status', { state: 'online', ts: 2 }],
      ['gs/soil-1/status', { state: 'online', ts: 4 }],
    ]);
    status.offline({}, 'soil-2'); // the next turn schedules its own flush
    expect(flushes).toHaveLength(2);
    status.flush(); // as the broker does before it closes
    expect(published.at(-1)).toEqual(['gs/soil-2/status', { state: 'offline', ts: 5 }]);
    flushes[1]!(); // the deferred flush finds nothing left
    expect(published).toHaveLength(3);
  });
});

describe('credential cache', () => {
  it('matches only the same secret against the same registry object, and evicts the least recent', () => {
    const cache = createCredentialCache({ key: Buffer.alloc(32, 7), maxEntries: 2 });
    const [v1, v2] = [{}, {}];
    cache.remember('a', v1, 'secret-a');
    expect(cache.check('a', v1, 'secret-a')).toBe(true);
    expect(cache.check('a', v1, 'secret-b')).toBe(false);
    expect(cache.check('a', v2, 'secret-a')).toBe(false); // the device changed since
    cache.remember('b', v1, 'sb');
    cache.remember('a', v1, 'secret-a'); // refreshed: b is now the oldest
    cache.remember('c', v1, 'sc');
    expect([cache.check('a', v1, 'secret-a'), cache.check('b', v1, 'sb'), cache.check('c', v1, 'sc')]).toEqual([true, false, true]);
    expect(cache.size()).toBe(2);
  });
});
