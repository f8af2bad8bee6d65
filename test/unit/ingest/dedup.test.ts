import { describe, expect, it } from 'vitest';
import { createDedup } from '../../../ingest/dedup.ts';
import type { DedupKey } from '../../../contracts/reading.ts';

const T = 1_764_151_200_000;
/** 's3@1' → a counter key (seq 3 at T + 1); 'f3@1' → fCnt 3; anything else is a text key. */
const keyOf = (step: string): DedupKey => {
  const m = /^([sf])(\d+)@(\d+)$/.exec(step);
  return m ? { counter: m[1] as 's' | 'f', n: Number(m[2]), ts: T + Number(m[3]) } : step;
};

describe('dedup window', () => {
  it.each([
    ['a key seen within the window', ['a', 'b'], 'a', true],
    ['a key pushed out of the window', ['a', 'b', 'c'], 'a', false],
    // Forgotten after a failed append, then accepted again: its older slot must not evict the newer one.
    ['a key forgotten, sent again, then followed by another', ['a', '-a', 'a', 'b'], 'a', true],
    ['a key forgotten and not sent again', ['a', '-a'], 'a', false],
    ['a counter seen within the window', ['s3@1', 's4@2'], 's3@1', true],
    ['a counter pushed out of the window', ['s3@1', 's4@2', 's5@3'], 's3@1', false],
    ['the same counter at another time (a reboot)', ['s3@1'], 's3@9', false],
    ['another counter at the same time', ['s3@1'], 's4@1', false],
    ['the second of two counters sharing a time', ['s3@1', 's4@1'], 's4@1', true],
    ['the first of two counters sharing a time', ['s3@1', 's4@1'], 's3@1', true],
    // The first leaves the window; the second, kept as text, is still in it.
    ['the second of two sharing a time, after the first left', ['s3@1', 's4@1', 'x'], 's4@1', true],
    ['the first of two sharing a time, once it left', ['s3@1', 's4@1', 'x'], 's3@1', false],
    ['a seq and an fCnt of the same number and time', ['s3@1'], 'f3@1', false],
    ['a counter forgotten, sent again, then followed by another', ['s3@1', '-s3@1', 's3@1', 's4@2'], 's3@1', true],
    ['a counter forgotten and not sent again', ['s3@1', '-s3@1'], 's3@1', false],
    ['a counter kept as text, forgotten', ['s3@1', 's4@1', '-s4@1'], 's4@1', false],
    ['forgetting one counter of a shared time keeps the other', ['s3@1', 's4@1', '-s4@1'], 's3@1', true],
  ] as const)('%s', (_name, steps, probe, expected) => {
    const dedup = createDedup({ perDevice: 2, maxDevices: 10 });
    for (const step of steps) {
      if (step.startsWith('-')) dedup.forget('d', keyOf(step.slice(1)));
      else dedup.seen('d', keyOf(step));
    }
    expect(dedup.seen('d', keyOf(probe))).toBe(expected);
  });

  it('keeps devices apart', () => {
    const dedup = createDedup({ perDevice: 4, maxDevices: 10 });
    expect(dedup.seen('a', keyOf('s1@1'))).toBe(false);
    expect(dedup.seen('b', keyOf('s1@1'))).toBe(false);
    expect(dedup.seen('a', keyOf('s1@1'))).toBe(true);
  });

  // The window must answer as it did with text keys only: a text key (a network server's
  // id is any text) that spells a counter key is that key, whichever of the two came first.
  it.each([
    ['a text spelling a counter, after the counter', [{ counter: 's', n: 3, ts: T }], `s3@${T}`, true],
    ['a text spelling an fCnt, after the fCnt', [{ counter: 'f', n: 0, ts: T }], `f0@${T}`, true],
    ['a counter, after the text spelling it', [`s3@${T}`], { counter: 's', n: 3, ts: T }, true],
    ['a counter, after the text spelling it was forgotten', [`s3@${T}`, `-s3@${T}`], { counter: 's', n: 3, ts: T }, false],
    ['a counter forgotten by the text spelling it', [{ counter: 's', n: 3, ts: T }, `-s3@${T}`], { counter: 's', n: 3, ts: T }, false],
    ['a text that only looks like a counter (a leading zero)', [{ counter: 's', n: 3, ts: T }], `s03@${T}`, false],
  ] as const)('%s', (_name, steps, probe, expected) => {
    const dedup = createDedup({ perDevice: 4, maxDevices: 10 });
    for (const step of steps) {
      if (typeof step === 'string' && step.startsWith('-')) dedup.forget('d', step.slice(1));
      else dedup.seen('d', step as DedupKey);
    }
    expect(dedup.seen('d', probe as DedupKey)).toBe(expected);
  });

  it('tracks at most maxDevices, forgetting the first tracked', () => {
    const dedup = createDedup({ perDevice: 4, maxDevices: 2 });
    dedup.seen('a', 'k');
    dedup.seen('b', 'k');
    dedup.seen('c', 'k');
    expect(dedup.seen('b', 'k')).toBe(true);
    expect(dedup.seen('a', 'k')).toBe(false);
  });
});
