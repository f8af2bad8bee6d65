import type { Random } from '../../lib/random.ts';

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 60_000 };

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
