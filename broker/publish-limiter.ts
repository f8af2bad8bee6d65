import { takeTokenInPlace, type Bucket, type BucketLimits } from '../lib/token-bucket.ts';

export type PublishVerdict = 'ok' | 'drop' | 'disconnect';

export interface PublishLimits {
  device: BucketLimits;
  service: BucketLimits;
  /** Drops within `windowMs` after which the client is disconnected. */
  disconnectAfter: number;
  windowMs: number;
}

interface State { bucket: Bucket; drops: number; windowStart: number }

/**
 * A token bucket per connection (keyed by the aedes client object, so state ends with
 * the connection), plus a count of drops: a client that keeps publishing past its budget
 * is disconnected rather than served drop by drop.
 */
export function createPublishLimiter(limits: PublishLimits, now: () => number) {
  const states = new WeakMap<object, State>();
  return {
    check(client: object, kind: 'device' | 'service'): PublishVerdict {
      const nowMs = now();
      const bucketLimits = kind === 'device' ? limits.device : limits.service;
      let state = states.get(client);
      if (!state) {
        state = { bucket: { tokens: bucketLimits.burst, atMs: nowMs }, drops: 0, windowStart: nowMs };
        states.set(client, state);
      }
      if (takeTokenInPlace(state.bucket, nowMs, bucketLimits)) return 'ok';
      if (nowMs - state.windowStart > limits.windowMs) {
        state.windowStart = nowMs;
        state.drops = 0;
      }
      state.drops += 1;
      return state.drops >= limits.disconnectAfter ? 'disconnect' : 'drop';
    },
  };
}
