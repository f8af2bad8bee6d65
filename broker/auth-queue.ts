import { createKeyedBuckets, type BucketLimits } from '../lib/token-bucket.ts';

/**
 * Who gets the next slow (scrypt) credential check, and the failure budget every check
 * (slow or keyed, `charge`) is under. Three rules keep one abusive address
 * from locking everyone else out (a flood of unknown-user CONNECTs at 40/s, each hung up
 * after 20 ms, once kept 20 fresh devices out for 30 s):
 *
 * - **Abandoned attempts leave the queue**: a CONNECT whose socket closed while it waited
 *   is dropped unchecked (its `signal` aborts) — nobody is left to answer.
 * - **Known accounts before strangers**: an attempt for an account that exists and is
 *   enabled waits in the `known` lane, which is always served first; a full queue makes
 *   room for it by refusing the newest stranger.
 * - **A budget per address**: each failed or abandoned check takes a token from its
 *   address's bucket (`perAddress`: a burst, then a steady rate); an address with none
 *   left is refused at once, known user or not (so the refusal tells nothing about the
 *   name), until its bucket refills. An address may also hold at most `perAddress.burst`
 *   places in the queue. Successes cost nothing: many devices behind one NAT reconnect
 *   freely.
 */
export interface AuthQueueOptions {
  concurrency: number;
  queue: number;
  perAddress: BucketLimits;
}

export const DEFAULT_PER_ADDRESS: BucketLimits = { burst: 20, ratePerS: 2 };

export type Lane = 'known' | 'stranger';
export interface Ticket { address: string; lane: Lane; signal?: AbortSignal }
/** Why an attempt was not checked: queue full, its address out of budget, or its socket gone. */
export type NotChecked = 'busy' | 'over_budget' | 'abandoned';
export type Turn<T> = { checked: true; value: T } | { checked: false; why: NotChecked };

interface Waiter { address: string; start: () => void; drop: (why: NotChecked) => void }

export function createAuthQueue(options: AuthQueueOptions, now: () => number, observe: (running: number, waiting: number) => void = () => undefined) {
  let running = 0;
  const lanes: Record<Lane, Waiter[]> = { known: [], stranger: [] };
  const held = new Map<string, number>(); // places each address holds, waiting or running
  const failures = createKeyedBuckets(options.perAddress, now);
  const waiting = (): number => lanes.known.length + lanes.stranger.length;
  const report = (): void => observe(running, waiting());

  const hold = (address: string, delta: number): void => {
    const n = (held.get(address) ?? 0) + delta;
    if (n > 0) held.set(address, n);
    else held.delete(address);
  };
  const remove = (waiter: Waiter): boolean => {
    for (const lane of Object.values(lanes)) {
      const i = lane.indexOf(waiter);
      if (i >= 0) {
        lane.splice(i, 1);
        return true;
      }
    }
    return false;
  };
  const next = (): void => {
    const waiter = lanes.known.shift() ?? lanes.stranger.shift();
    if (waiter) waiter.start();
    else running -= 1;
  };

  /** Wait for a slot (or be refused), run `check`, and charge the address when `failed(value)`. */
  async function run<T>(ticket: Ticket, check: () => Promise<T>, failed: (value: T) => boolean): Promise<Turn<T>> {
    if (ticket.signal?.aborted) return { checked: false, why: 'abandoned' };
    if (!failures.wouldAdmit(ticket.address) || (held.get(ticket.address) ?? 0) >= options.perAddress.burst) {
      return { checked: false, why: 'over_budget' };
    }
    if (running >= options.concurrency) {
      if (waiting() >= options.queue) {
        const evicted = ticket.lane === 'known' ? lanes.stranger.pop() : undefined;
        if (!evicted) return { checked: false, why: 'busy' };
        evicted.drop('busy');
      }
      hold(ticket.address, 1);
      const turn = await new Promise<NotChecked | undefined>((resolve) => {
        const onAbort = (): void => {
          if (remove(waiter)) resolve('abandoned');
        };
        const waiter: Waiter = {
          address: ticket.address,
          start: () => {
            ticket.signal?.removeEventListener('abort', onAbort);
            resolve(undefined);
          },
          drop: (why) => {
            ticket.signal?.removeEventListener('abort', onAbort);
            resolve(why);
          },
        };
        ticket.signal?.addEventListener('abort', onAbort, { once: true });
        lanes[ticket.lane].push(waiter);
        report();
      });
      if (turn) {
        hold(ticket.address, -1);
        if (turn === 'abandoned') failures.take(ticket.address);
        report();
        return { checked: false, why: turn };
      }
    } else {
      running += 1;
      hold(ticket.address, 1);
    }
    report();
    try {
      return await checkCharged(ticket.address, check, failed);
    } finally {
      hold(ticket.address, -1);
      next(); // hand the slot over, or give it back
      report();
    }
  }
  /** Run `check`; a failed or throwing check takes a token from the address's budget. */
  async function checkCharged<T>(address: string, check: () => T | Promise<T>, failed: (value: T) => boolean): Promise<Turn<T>> {
    try {
      const value = await check();
      if (failed(value)) failures.take(address);
      return { checked: true, value };
    } catch (error) {
      failures.take(address);
      throw error;
    }
  }
  /**
   * A check too cheap to queue (the keyed hash: microseconds on the event loop), under the
   * same budget: an address out of it is refused before the check, and a failure takes a
   * token, exactly as for a slow check. No slot is held, so a reconnect storm of keyed
   * devices never waits behind scrypt checks, nor they behind it.
   */
  async function charge<T>(ticket: Ticket, check: () => T | Promise<T>, failed: (value: T) => boolean): Promise<Turn<T>> {
    if (ticket.signal?.aborted) return { checked: false, why: 'abandoned' };
    if (!failures.wouldAdmit(ticket.address)) return { checked: false, why: 'over_budget' };
    return checkCharged(ticket.address, check, failed);
  }
  return { run, charge, running: (): number => running, waiting };
}
export type AuthQueue = ReturnType<typeof createAuthQueue>;
