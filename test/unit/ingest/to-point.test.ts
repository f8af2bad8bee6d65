import { describe, expect, it } from 'vitest';
import { createRandom } from '../../../lib/random.ts';
import { timestampText, valueText } from '../../../ingest/to-point.ts';

/** A deterministic spread of doubles: 32 seeded random bits (lib/random.ts) scaled over many magnitudes. */
function* doubles(count: number): Generator<number> {
  const random = createRandom(2463534242);
  for (let i = 0; i < count; i++) {
    const x = Math.floor(random() * 2 ** 32);
    const scale = 10 ** ((x % 24) - 8);
    yield (x % 2 ? -1 : 1) * (x / 2 ** 32) * scale;
  }
}

describe('point text', () => {
  it.each([0, -0, 1, -1, 90, 20.3, 18.5, -12.25, 0.1 + 0.2, 1e9 - 1, 1e9, -1e9, 1e21, 123456789.123, 5e-324, Number.MAX_VALUE])('valueText(%d) prints as String does', (v) => {
    expect(valueText(v)).toBe(String(v));
    expect(valueText(v)).toBe(String(v)); // the kept text too
  });

  it('prints every value as String does, past the bound of kept texts', () => {
    const values = [...doubles(30_000)];
    for (const v of values) expect(valueText(v)).toBe(String(v));
    for (const v of values) expect(valueText(v)).toBe(String(v));
  });

  it.each([
    0, 999_999, 1_000_000, 1_000_001, 1_000_099_999, 1_764_151_200_000, 1_764_151_200_007, 1_764_151_299_999, 1_764_151_100_000,
    1e15 - 1, 1e15, 999_999_999_999_999, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, -1_764_151_200_000,
  ])('timestampText(%d) prints as String does', (ms) => {
    expect(timestampText(ms)).toBe(String(ms));
  });

  it('prints every millisecond of a span as String does', () => {
    const wrong: number[] = [];
    for (let ms = 1_764_151_100_000; ms < 1_764_151_100_000 + 2_000_123; ms += 7) if (timestampText(ms) !== String(ms)) wrong.push(ms);
    expect(wrong).toEqual([]);
  });
});
