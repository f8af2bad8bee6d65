import { describe, expect, it } from 'vitest';
import { createOwnership } from '../../../cluster/ownership.ts';
import type { LeaseStore } from '../../../cluster/lease-store.ts';
import { createLogger } from '../../../lib/logger.ts';
import { eventually } from '../../helpers/app.ts';

/** An in-memory lease store (the port; the Redis one is tested on redis-server) that can stop answering. */
function fakeStore() {
  const leases = new Map<string, { owner: string; until: number }>();
  const live = new Map<string, number>();
  let down = false;
  const check = () => { if (down) throw new Error('store unreachable'); };
  const holder = (key: string) => { const l = leases.get(key); return l && l.until > Date.now() ? l.owner : undefined; };
  const store: LeaseStore = {
    async acquire(key, owner, ttlMs) { check(); if (holder(key) === undefined) leases.set(key, { owner, until: Date.now() + ttlMs }); return holder(key) === owner ? 1 : undefined; },
    async renew(key, owner, ttlMs) { check(); if (holder(key) !== owner) return false; leases.set(key, { owner, until: Date.now() + ttlMs }); return true; },
    async release(key, owner) { check(); if (holder(key) === owner) leases.delete(key); },
    async holders(keys) { check(); return new Map(keys.map((k) => [k, holder(k)])); },
    async heartbeat(owner, ttlMs) { check(); live.set(owner, Date.now() + ttlMs); },
    async liveOwners() { check(); return [...live].filter(([, until]) => until > Date.now()).map(([o]) => o); },
  };
  return { store, setDown: (value: boolean) => { down = value; } };
}

describe('the ownership manager when its store stops answering', () => {
  it('gives every community up before its leases can have expired, and takes them again once the store answers', async () => {
    const { store, setDown } = fakeStore();
    const changes: Array<{ gained: string[]; lost: string[]; at: number }> = [];
    const ttlMs = 1_000;
    const manager = createOwnership({
      store, nodeId: 'n1', keys: () => ['c1', 'c2'], ttlMs, roundMs: 200, logger: createLogger('silent'),
      onChange: (_owned, gained, lost) => changes.push({ gained, lost, at: Date.now() }),
    });
    await manager.start();
    try {
      expect([...manager.owned()]).toEqual(['c1', 'c2']);
      await new Promise((r) => setTimeout(r, 500)); // a few renewals
      const cut = Date.now();
      setDown(true);
      await eventually(() => (manager.owned().size === 0 ? true : undefined), 5_000, 'the leases given up');
      const lost = changes.at(-1)!;
      expect(lost.lost.sort()).toEqual(['c1', 'c2']);
      // Before the last renewed lease (renewed at most one round before the cut) could expire.
      expect(lost.at - cut).toBeLessThan(ttlMs);
      setDown(false);
      await eventually(() => (manager.owned().size === 2 ? true : undefined), 5_000, 'the leases taken again');
    } finally {
      setDown(false);
      await manager.stop();
    }
  });
});
