import { createKeyedBuckets, type BucketLimits } from '../lib/token-bucket.ts';

/**
 * Connection admission: a cap on open transport connections over every listener
 * (checked at accept, before a byte is parsed) and a CONNECT rate per client IP
 * (checked in aedes' preConnect).
 */
export function createConnectionGuard(options: { maxConnections: number; perIp: BucketLimits; now: () => number }) {
  let open = 0;
  const perIp = createKeyedBuckets(options.perIp, options.now);
  return {
    /** Take a connection slot; false when the broker is full. Pair with release(). */
    acquire(): boolean {
      if (open >= options.maxConnections) return false;
      open += 1;
      return true;
    },
    release(): void {
      open = Math.max(0, open - 1);
    },
    admitConnect: (ip: string): boolean => perIp.take(ip).ok,
    open: (): number => open,
  };
}
