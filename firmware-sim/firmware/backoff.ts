import type { Random } from '../../lib/random.ts';

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/**
 * A first window of 2 s and a 2-minute ceiling: a few thousand devices cut at once return
 * at a few thousand connections per second at most, then ever more spread out while the
 * broker stays down.
 */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 2_000, capMs: 120_000 };

/**
 * Delay before reconnect attempt n (0-based): exponential with "full jitter" (a uniform
 * draw over the whole window, AWS architecture blog, 2015). When a broker restarts,
 * every device loses its connection at the same instant; full jitter spreads their
 * returns over the window instead of sending them back in lockstep.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, rng: Random): number {
  const window = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(10, Math.floor(rng() * window));
}
