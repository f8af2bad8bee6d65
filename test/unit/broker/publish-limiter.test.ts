import { describe, expect, it } from 'vitest';
import { createPublishLimiter } from '../../../broker/publish-limiter.ts';
import { createKeyedBuckets, takeToken, takeTokenInPlace, type Bucket } from '../../../lib/token-bucket.ts';
import { createManualClock } from '../../../lib/clock.ts';

const limits = { device: { ratePerS: 2, burst: 3 }, service: { ratePerS: 100, burst: 100 }, disconnectAfter: 4, windowMs: 60_000 };

describe('token bucket', () => {
  it.each([
    // [tokens before, elapsed ms, ok, retry after ms]
    [undefined, 0, true, undefined],
    [{ tokens: 0, atMs: 0 }, 0, false, 500],
    [{ tokens: 0, atMs: 0 }, 250, false, 250],
    [{ tokens: 0, atMs: 0 }, 500, true, undefined],
    [{ tokens: 0.5, atMs: 0 }, 0, false, 250],
  ] as const)('from %j after %i ms: admitted %s', (bucket, elapsed, ok, retry) => {
    const take = takeToken(bucket, elapsed, { ratePerS: 2, burst: 3 });
    expect(take.ok).toBe(ok);
    if (!take.ok) expect(take.retryAfterMs).toBe(retry);
  });

  it('in place admits and refills exactly as takeToken does', () => {
    const bucketLimits = { ratePerS: 4, burst: 5 };
    let pure: Bucket | undefined = { tokens: 5, atMs: 0 };
    const owned: Bucket = { tokens: 5, atMs: 0 };
    let at = 0;
    const verdicts: boolean[] = [];
    for (let i = 0; i < 2_000; i++) {
      at += (i * 7919) % 311; // 0-310 ms apart, irregular: bursts, pauses and clock steps
      const take = takeToken(pure, at, bucketLimits);
      pure = take.bucket;
      const admitted = takeTokenInPlace(owned, at, bucketLimits);
      expect([admitted, owned.tokens, owned.atMs]).toEqual([take.ok, pure.tokens, pure.atMs]);
      verdicts.push(admitted);
    }
    expect(new Set(verdicts)).toEqual(new Set([true, false])); // both ways were exercised
  });

  it('forgets full buckets past its key budget', () => {
    const clock = createManualClock(0);
    const buckets = createKeyedBuckets({ ratePerS: 1, burst: 1 }, clock.now, 2);
    buckets.take('a');
    buckets.take('b');
    clock.advance(5_000);
    buckets.take('c');
    expect(buckets.size()).toBe(1);
    expect(buckets.wouldAdmit('a')).toBe(true);
  });

  it('stays within its key budget when every bucket is in use (many addresses, e.g. an IPv6 range)', () => {
    const clock = createManualClock(0);
    const buckets = createKeyedBuckets({ ratePerS: 1, burst: 5 }, clock.now, 100);
    for (let i = 0; i < 1_000; i++) buckets.take(`2001:db8::${i.toString(16)}`);
    // Unbounded, every take past the budget would also sweep all of them: O(keys) per CONNECT.
    expect(buckets.size()).toBeLessThanOrEqual(100);
    // The most recent keep their state: one that just spent a token is not forgiven.
    expect(buckets.wouldAdmit('2001:db8::3e7')).toBe(true);
    for (let i = 0; i < 4; i++) buckets.take('2001:db8::3e7');
    expect(buckets.wouldAdmit('2001:db8::3e7')).toBe(false);
  });
});

describe('publish limiter', () => {
  it('admits a burst, then the sustained rate, drops the excess and disconnects a repeat offender', () => {
    const clock = createManualClock(0);
    const limiter = createPublishLimiter(limits, clock.now);
    const client = {};
    const verdicts = Array.from({ length: 8 }, () => limiter.check(client, 'device'));
    expect(verdicts).toEqual(['ok', 'ok', 'ok', 'drop', 'drop', 'drop', 'disconnect', 'disconnect']);
    clock.advance(500);
    expect(limiter.check({}, 'device')).toBe('ok'); // another connection has its own bucket
  });

  it('forgives drops once the window has passed', () => {
    const clock = createManualClock(0);
    const limiter = createPublishLimiter(limits, clock.now);
    const client = {};
    for (let i = 0; i < 6; i++) limiter.check(client, 'device'); // 3 ok, 3 drops
    clock.advance(61_000);
    for (let i = 0; i < 3; i++) expect(limiter.check(client, 'device')).toBe('ok');
    expect(limiter.check(client, 'device')).toBe('drop');
  });

  it('gives service accounts their own, larger budget', () => {
    const limiter = createPublishLimiter(limits, () => 0);
    const client = {};
    expect(Array.from({ length: 100 }, () => limiter.check(client, 'service')).every((v) => v === 'ok')).toBe(true);
    expect(limiter.check(client, 'service')).toBe('drop');
  });
});
