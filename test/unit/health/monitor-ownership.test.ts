import { describe, expect, it } from 'vitest';
import { createHealthMonitor } from '../../../health/monitor.ts';
import { followOwnership } from '../../../health/ownership-seed.ts';
import type { OwnershipChange } from '../../../contracts/ownership.ts';
import { createDeviceRegistry } from '../../../registry/devices.ts';
import { createLogger } from '../../../lib/logger.ts';
import type { AcceptedReading } from '../../../contracts/reading.ts';
import { createLedger, MIN } from '../alerts/helpers.ts';
import { testHasher } from '../../helpers/hasher.ts';

/**
 * A clustered node's offline sweep (health/monitor.ts `ownedScope`): only the devices of the
 * communities it owns, the rest of its offline state left as it was, and a grace after a
 * takeover. The ownership port is a fake here; the leases behind it are tested on Redis.
 */
async function setup() {
  const ledger = createLedger();
  const registry = createDeviceRegistry(ledger.db, { hasher: testHasher });
  await registry.register({ id: 's-mine', kind: 'soil', reportIntervalS: 60, place: { district: 'd-1', community: 'c-mine' } });
  await registry.register({ id: 's-theirs', kind: 'soil', reportIntervalS: 60, place: { district: 'd-1', community: 'c-theirs' } });
  const owned = new Set(['c-mine']);
  const gained = new Map<string, number>();
  const monitor = createHealthMonitor({
    clock: ledger.clock, logger: createLogger('silent'), alerts: ledger.alerts, devices: registry, saveBaseline: () => undefined,
    ownership: { owns: (c) => c !== undefined && owned.has(c), gainedAt: (c) => (c === undefined ? undefined : gained.get(c)) },
  });
  const send = async (deviceId: string) => {
    const now = ledger.clock.now();
    const reading: AcceptedReading = { deviceId, ts: now, receivedAt: now, kind: 'soil', dedupKey: undefined, fields: { moisture: 20 }, source: 'native' };
    monitor.onReading(reading, registry.get(deviceId)!);
    await monitor.settled();
  };
  const sweep = async () => {
    monitor.sweep();
    await monitor.settled();
  };
  const sendBattery = async (deviceId: string, battery: number) => {
    const now = ledger.clock.now();
    monitor.onReading({ deviceId, ts: now, receivedAt: now, kind: 'soil', dedupKey: undefined, fields: { moisture: 20, battery }, source: 'native' }, registry.get(deviceId)!);
    ledger.clock.advance(MIN);
  };
  const offline = async () => (await ledger.alerts.list({ active: true })).filter((a) => a.kind === 'device_offline').map((a) => a.subject).sort();
  return { ...ledger, monitor, owned, gained, send, sendBattery, sweep, offline };
}

describe('the offline sweep of a clustered node', () => {
  it('sweeps only the communities it owns', async () => {
    const t = await setup();
    t.clock.advance(3 * MIN + 1);
    await t.sweep();
    expect(await t.offline()).toEqual(['s-mine']); // s-theirs is as silent, and another node's to judge
  });

  it('neither clears nor raises again the alerts of a community it lost, and gives a community it gains a grace from the takeover', async () => {
    const t = await setup();
    t.owned.add('c-theirs');
    t.clock.advance(3 * MIN + 1);
    await t.sweep();
    expect(await t.offline()).toEqual(['s-mine', 's-theirs']);

    t.owned.delete('c-theirs'); // lost: its alert stays as it is, whatever this node hears or not
    t.clock.advance(MIN);
    await t.sweep();
    expect(await t.offline()).toEqual(['s-mine', 's-theirs']);

    // s-mine reports and is back; a new device in a community gained now is not offline before
    // its own threshold has passed since the takeover, though this node never heard it.
    await t.send('s-mine');
    expect(await t.offline()).toEqual(['s-theirs']);
    t.owned.add('c-theirs');
    t.gained.set('c-theirs', t.clock.now());
    await t.send('s-theirs'); // back: cleared by the reading, as a local one
    t.owned.delete('c-theirs');
    t.clock.advance(10 * MIN);
    t.owned.add('c-theirs');
    t.gained.set('c-theirs', t.clock.now()); // gained again, last heard 10 min ago
    t.clock.advance(3 * MIN - 1);
    await t.sweep();
    expect(await t.offline()).toEqual(['s-mine']); // s-mine: silent 13 min; s-theirs: within its grace
    t.clock.advance(2);
    await t.sweep();
    expect(await t.offline()).toEqual(['s-mine', 's-theirs']);
  });

  it('seeds a gained community from the store\'s active alerts (another owner raised them), forgets a lost one, and counts a device heard since the gain as back', async () => {
    const t = await setup();
    // Another owner raised s-theirs offline; this node never heard of it.
    await t.alerts.apply({ action: 'raise', kind: 'device_offline', subject: 's-theirs', severity: 'warning', message: 'offline', communityId: 'c-theirs', districtId: 'd-1', at: t.clock.now() });
    t.owned.add('c-theirs');
    t.gained.set('c-theirs', t.clock.now());
    t.monitor.adopt(['c-theirs'], await t.alerts.activeIn(['c-theirs']));
    t.clock.advance(10 * MIN);
    await t.sweep(); // still silent: known offline, not raised again
    expect((await t.alerts.list({ kind: 'device_offline', subject: 's-theirs' })).map((a) => [a.state, a.details?.occurrences ?? 1])).toEqual([['firing', 1]]);
    await t.send('s-theirs');
    expect(await t.offline()).toEqual(['s-mine']); // s-theirs resolved by its reading

    // Lost, raised and cleared elsewhere, gained again: a device heard between the gain and the seeding is back at once.
    t.owned.delete('c-theirs');
    t.monitor.forget(['c-theirs']);
    await t.alerts.apply({ action: 'raise', kind: 'device_offline', subject: 's-theirs', severity: 'warning', message: 'offline', communityId: 'c-theirs', districtId: 'd-1', at: t.clock.now() });
    t.owned.add('c-theirs');
    t.gained.set('c-theirs', t.clock.now());
    const active = await t.alerts.activeIn(['c-theirs']);
    await t.send('s-theirs'); // before the seeding has read the store
    t.monitor.adopt(['c-theirs'], active);
    await t.monitor.settled();
    expect(await t.offline()).toEqual(['s-mine']);
  });

  it('a raise this node makes while its seeding reads the store is in the seed: its clear is sent when the battery recovers', async () => {
    const t = await setup();
    let change: (c: OwnershipChange) => void = () => undefined;
    let reads = 0;
    const stop = followOwnership({
      ownership: { owns: (c) => c !== undefined && t.owned.has(c), onChange: (_name, listener) => { change = listener; return () => undefined; } },
      monitor: t.monitor,
      logger: createLogger('silent'),
      activeIn: async (communities) => {
        const snapshot = await t.alerts.activeIn(communities);
        // The first read is taken before the readings below raise battery_low for s-theirs.
        if (reads++ === 0) for (let i = 0; i < 8; i++) await t.sendBattery('s-theirs', 5);
        return snapshot;
      },
    });
    t.owned.add('c-theirs');
    t.gained.set('c-theirs', t.clock.now());
    change({ gained: ['c-theirs'], lost: [] });
    const battery = async () => (await t.alerts.list({ active: true, kind: 'battery_low' })).map((a) => a.subject);
    await (async () => { for (let i = 0; i < 50 && reads < 2; i++) await new Promise((r) => setTimeout(r, 10)); })();
    await t.monitor.settled();
    expect(reads).toBe(2); // read again: a signal of the community came while it read
    expect(await battery()).toEqual(['s-theirs']);
    for (let i = 0; i < 8; i++) await t.sendBattery('s-theirs', 100);
    await t.monitor.settled();
    expect(await battery()).toEqual([]);
    stop();
  });
});
