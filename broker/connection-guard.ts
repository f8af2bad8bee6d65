import { createKeyedBuckets, type BucketLimits } from '../lib/token-bucket.ts';

/**
 * Connection admission: a cap on open transport connections over every listener
 * (checked at accept, before a byte is parsed) and a CONNECT rate per client IP
 * (checked in aedes' preConnect).
 */
export function createConnectionGuard(options: { maxConnections: number; perIp: BucketLimits; now: () => number }) {
  let open = 0;
  const perIp = createKeyedBuckets(options.perIp, options.now);
  const unauthenticated = new Map<string, number>();
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
    /**
     * Hold one of the address's slots for a connection that has not authenticated yet;
     * undefined when it already holds `perIp.burst` of them. Without it one address could
     * fill every slot with connections that never send CONNECT (each kept until the CONNECT
     * timeout). Authenticated sessions release theirs: many devices may share a NAT address.
     */
    holdUnauthenticated(ip: string): (() => void) | undefined {
      const held = unauthenticated.get(ip) ?? 0;
      if (held >= options.perIp.burst) return undefined;
      unauthenticated.set(ip, held + 1);
      let holding = true;
      return () => {
        if (!holding) return;
        holding = false;
        const left = (unauthenticated.get(ip) ?? 1) - 1;
        if (left > 0) unauthenticated.set(ip, left);
        else unauthenticated.delete(ip);
      };
    },
    admitConnect: (ip: string): boolean => perIp.take(ip).ok,
    open: (): number => open,
  };
}
