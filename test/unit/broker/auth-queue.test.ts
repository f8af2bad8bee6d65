import { describe, expect, it } from 'vitest';
import { createAuthQueue, type Lane } from '../../../broker/auth-queue.ts';

/** Checks that finish only when the test releases them, in order. */
function setup(options = { concurrency: 1, queue: 10, perAddress: { burst: 5, ratePerS: 1 } }) {
  let nowMs = 0;
  const queue = createAuthQueue(options, () => nowMs);
  const started: string[] = [];
  const releases: Array<(ok: boolean) => void> = [];
  const attempt = (name: string, address: string, lane: Lane, signal?: AbortSignal) =>
    queue.run({ address, lane, signal }, () => {
      started.push(name);
      return new Promise<boolean>((resolve) => releases.push(resolve));
    }, (ok) => !ok);
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  /** Finish the running checks (failed unless `ok`), one turn after another, until none runs. */
  const finishAll = async (ok = false) => {
    while (releases.length > 0) {
      releases.shift()?.(ok);
      await settle();
    }
  };
  return { queue, attempt, started, finishAll, settle, advance: (ms: number) => { nowMs += ms; } };
}

describe('the credential-check queue under abuse', () => {
  it('drops a waiting attempt whose socket closed: it is never checked', async () => {
    const { attempt, started, finishAll, settle } = setup();
    const first = attempt('first', 'a', 'known');
    const gone = new AbortController();
    const abandoned = attempt('abandoned', 'b', 'stranger', gone.signal);
    const later = attempt('later', 'c', 'stranger');
    await settle();
    gone.abort();
    await finishAll(true);
    expect(await abandoned).toEqual({ checked: false, why: 'abandoned' });
    expect((await first).checked && (await later).checked).toBe(true);
    expect(started).toEqual(['first', 'later']);
  });

  it('serves known accounts before strangers, whatever the order they came in', async () => {
    const { attempt, started, finishAll, settle } = setup();
    const all = [attempt('s0', 'x', 'stranger'), attempt('s1', 'y', 'stranger'), attempt('s2', 'z', 'stranger'), attempt('k1', 'a', 'known'), attempt('k2', 'b', 'known')];
    await settle();
    await finishAll(true);
    await Promise.all(all);
    expect(started).toEqual(['s0', 'k1', 'k2', 's1', 's2']); // s0 was already running
  });

  it('makes room for a known account in a full queue by refusing the newest stranger', async () => {
    const { attempt, finishAll, settle } = setup({ concurrency: 1, queue: 2, perAddress: { burst: 5, ratePerS: 1 } });
    const running = attempt('s0', 'x', 'stranger');
    const s1 = attempt('s1', 'y', 'stranger');
    const s2 = attempt('s2', 'z', 'stranger');
    const known = attempt('k', 'a', 'known');
    const s3 = attempt('s3', 'w', 'stranger');
    await settle();
    await finishAll(true);
    expect(await s2).toEqual({ checked: false, why: 'busy' });
    expect(await s3).toEqual({ checked: false, why: 'busy' });
    expect((await known).checked && (await s1).checked && (await running).checked).toBe(true);
  });

  it('budgets failures per address: a burst, then the steady rate; other addresses unaffected; successes free', async () => {
    const { attempt, finishAll, settle, advance } = setup({ concurrency: 1, queue: 100, perAddress: { burst: 3, ratePerS: 2 } });
    const failing = [1, 2, 3].map((i) => attempt(`f${i}`, 'abuser', 'stranger'));
    await settle();
    await finishAll(false);
    await Promise.all(failing);
    expect(await attempt('f4', 'abuser', 'known')).toEqual({ checked: false, why: 'over_budget' }); // known or not: the refusal tells nothing
    const other = attempt('o', 'neighbour', 'stranger');
    await settle();
    await finishAll(false);
    expect((await other).checked).toBe(true);
    advance(500); // 2/s: one more check
    const refilled = attempt('f5', 'abuser', 'stranger');
    await settle();
    await finishAll(false);
    expect((await refilled).checked).toBe(true);
    expect(await attempt('f6', 'abuser', 'stranger')).toEqual({ checked: false, why: 'over_budget' });

    for (let i = 0; i < 10; i++) { // a NAT of healthy devices: successes take nothing
      const ok = attempt(`ok${i}`, 'nat', 'known');
      await settle();
      await finishAll(true);
      expect((await ok).checked).toBe(true);
    }
  });

  it('lets one address hold at most its burst of places in the queue', async () => {
    const { attempt, finishAll, settle } = setup({ concurrency: 1, queue: 100, perAddress: { burst: 3, ratePerS: 1 } });
    const attempts = Array.from({ length: 5 }, (_, i) => attempt(`n${i}`, 'busy-nat', 'known'));
    await settle();
    expect(await attempts[3]).toEqual({ checked: false, why: 'over_budget' });
    expect(await attempts[4]).toEqual({ checked: false, why: 'over_budget' });
    await finishAll(true);
    expect((await Promise.all(attempts.slice(0, 3))).every((t) => t.checked)).toBe(true);
  });
});
