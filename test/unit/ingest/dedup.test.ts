import { describe, expect, it } from 'vitest';
import { createDedup } from '../../../ingest/dedup.ts';

describe('dedup window', () => {
  it.each([
    ['a key seen within the window', ['a', 'b'], 'a', true],
    ['a key pushed out of the window', ['a', 'b', 'c'], 'a', false],
    // Forgotten after a failed append, then accepted again: its older slot must not evict the newer one.
    ['a key forgotten, sent again, then followed by another', ['a', '-a', 'a', 'b'], 'a', true],
    ['a key forgotten and not sent again', ['a', '-a'], 'a', false],
  ] as const)('%s', (_name, steps, probe, expected) => {
    const dedup = createDedup({ perDevice: 2, maxDevices: 10 });
    for (const step of steps) {
      if (step.startsWith('-')) dedup.forget('d', step.slice(1));
      else dedup.seen('d', step);
    }
    expect(dedup.seen('d', probe)).toBe(expected);
  });
});
