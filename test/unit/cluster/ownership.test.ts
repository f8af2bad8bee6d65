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

describe('a key acquired during a round', () => {
  it('is not owned before the round says so (onChange): the features would act on it before taking it over', async () => {
    const { store } = fakeStore();
    let open!: () => void;
    const gate = new Promise<void>((r) => { open = r; });
    const acquire = store.acquire.bind(store);
    store.acquire = async (key, owner, ttlMs) => { if (key === 'c2') await gate; return acquire(key, owner, ttlMs); };
    const seen: string[] = [];
    const manager = createOwnership({
      store, nodeId: 'n1', keys: () => ['c1', 'c2'], ttlMs: 5_000, roundMs: 1_000, logger: createLogger('silent'),
      onChange: (_owned, gained) => { seen.push(`gained ${gained.join(',')}; owns c1: ${manager.owns('c1')}`); },
    });
    const started = manager.start();
    try {
      await new Promise((r) => setTimeout(r, 20)); // c1 acquired, c2 on its way
      expect(manager.owns('c1')).toBe(false);
      open();
      await started;
      expect(seen).toEqual(['gained c1,c2; owns c1: true']); // owned from the change's delivery on
      expect(manager.owns('c1')).toBe(true);
    } finally {
      open();
      await manager.stop();
    }
  });
});
