import { describe, expect, it } from 'vitest';
import { defaultPayload, defaultReading } from '../../../firmware-sim/load.ts';

describe('the load generator default payload', () => {
  it('is exactly the JSON of the default reading', () => {
    for (let seq = 0; seq < 1_000; seq += 7) {
      const ts = 1_764_000_000_000 + seq;
      expect(defaultPayload(seq, ts)).toBe(JSON.stringify(defaultReading('d', seq, ts)));
    }
  });
});
