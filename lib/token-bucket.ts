/**
 * Token buckets, pure: the caller passes the time. `burst` tokens at most, refilled at
 * `ratePerS`; each admitted event takes one.
 */
export interface BucketLimits { ratePerS: number; burst: number }
export interface Bucket { tokens: number; atMs: number }

export type Take = { ok: true; bucket: Bucket } | { ok: false; bucket: Bucket; retryAfterMs: number };

/** The tokens a bucket holds at `nowMs`. */
const tokensAt = (bucket: Bucket, nowMs: number, limits: BucketLimits): number =>
  Math.min(limits.burst, bucket.tokens + (Math.max(0, nowMs - bucket.atMs) / 1000) * limits.ratePerS);

export function refill(bucket: Bucket | undefined, nowMs: number, limits: BucketLimits): Bucket {
  if (!bucket) return { tokens: limits.burst, atMs: nowMs };
  return { tokens: tokensAt(bucket, nowMs, limits), atMs: nowMs };
}

/**
 * `takeToken` on a bucket the caller owns, changed in place: for a check made on every
 * message (the broker's per-connection publish limit), where the three objects a
 * `takeToken` returns would be garbage each time. True when admitted.
 */
export function takeTokenInPlace(bucket: Bucket, nowMs: number, limits: BucketLimits): boolean {
  bucket.tokens = tokensAt(bucket, nowMs, limits);
  bucket.atMs = nowMs;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

export function takeToken(bucket: Bucket | undefined, nowMs: number, limits: BucketLimits): Take {
  const filled = refill(bucket, nowMs, limits);
  if (filled.tokens >= 1) return { ok: true, bucket: { tokens: filled.tokens - 1, atMs: nowMs } };
  const retryAfterMs = Math.ceil(((1 - filled.tokens) / limits.ratePerS) * 1000);
  return { ok: false, bucket: filled, retryAfterMs };
}

/**
 * Buckets by key (client IP, client id), bounded: past `maxKeys` the buckets that have
 * refilled completely are forgotten, since a full bucket is the same as none, and then
 * the least recently used if that was not enough.
 */
export function createKeyedBuckets(limits: BucketLimits, now: () => number, maxKeys = 100_000) {
  const buckets = new Map<string, Bucket>();
  const sweep = (nowMs: number) => {
    for (const [key, bucket] of buckets) if (refill(bucket, nowMs, limits).tokens >= limits.burst) buckets.delete(key);
  };
  return {
    take(key: string): Take {
      const nowMs = now();
      const result = takeToken(buckets.get(key), nowMs, limits);
      buckets.delete(key); // re-inserted: Map order is recency, the least recent come first
      buckets.set(key, result.bucket);
      if (buckets.size > maxKeys) {
        sweep(nowMs);
        // Still over with buckets in use (many addresses at once): forget the least recent,
        // down to 90%, so memory stays bounded and the O(keys) sweep stays rare.
        for (const old of buckets.keys()) {
          if (buckets.size <= Math.floor(maxKeys * 0.9)) break;
          buckets.delete(old);
        }
      }
      return result;
    },
    /** Whether an event now would be admitted, without taking a token. */
    wouldAdmit: (key: string): boolean => refill(buckets.get(key), now(), limits).tokens >= 1,
    /** How long until an event would be admitted (0: now), without taking a token. */
    waitMs(key: string): number {
      const tokens = refill(buckets.get(key), now(), limits).tokens;
      return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / limits.ratePerS) * 1000);
    },
    size: (): number => buckets.size,
  };
}
