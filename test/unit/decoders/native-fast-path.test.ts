import { describe, expect, it } from 'vitest';
import { createRandom } from '../../../lib/random.ts';
import { NativeReading } from '../../../contracts/native-payload.ts';
import { canonicalNative, fromContract } from '../../../ingest/decoders/native.ts';

/**
 * The native decoder checks the canonical form by hand and sends everything else through
 * the zod contract. Whatever the fast path accepts, the contract must accept with the
 * same values; it may decline what the contract accepts (strings, ISO times), never the reverse.
 */
describe('the native fast path agrees with the NativeReading contract', () => {
  // Seeded: the same readings on every run.
  const rand = createRandom(0x9e3779b9);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const KEYS = ['ts', 'seq', 'battery', 'batteryV', 'rssi', 'snr', 'moisture', 'temperature', 'ec', 'pitch', 'roll', 'shock', 'state', 'flow', 'volume', 'rainfall', 'extra', '__proto__', 'constructor'];
  const VALUES: unknown[] = [
    0, -0, 1, 2, -1, 0.5, 21.7, -40, 1e21, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1_764_000_000_000, 1.5e-7, 9007199254740991,
    '21.5', '1', '0', 'open', 'abc', '', ' 3 ', true, false, null, [], {}, [1], '2026-05-01T06:00:00Z',
  ];

  it('on 20,000 generated readings', () => {
    let fast = 0;
    for (let n = 0; n < 20_000; n++) {
      const item: Record<string, unknown> = {};
      const size = Math.floor(rand() * 6);
      for (let k = 0; k < size; k++) Object.defineProperty(item, pick(KEYS), { value: pick(VALUES), enumerable: true, configurable: true, writable: true });
      const json = JSON.parse(JSON.stringify(item)) as Record<string, unknown>; // as it arrives: through JSON
      const quick = canonicalNative(json);
      if (!quick) continue;
      fast++;
      const parsed = NativeReading.safeParse(json);
      expect(parsed.success, `${JSON.stringify(json)} accepted by the fast path only`).toBe(true);
      if (parsed.success) expect(quick, JSON.stringify(json)).toEqual(fromContract(parsed.data));
    }
    expect(fast).toBeGreaterThan(1_000); // the comparison ran on many canonical readings
  });

  it('takes the firmware form and leaves the rest to the contract', () => {
    expect(canonicalNative({ ts: 1_764_000_000_000, seq: 7, moisture: 21.5, temperature: 18, battery: 90 })).toEqual({
      ts: 1_764_000_000_000, seq: 7, batteryV: undefined, fields: { moisture: 21.5, temperature: 18, battery: 90 },
    });
    expect(canonicalNative({ moisture: '21.5' })).toBeUndefined();
    expect(canonicalNative({ ts: '2026-05-01T06:00:00Z', moisture: 20 })).toBeUndefined();
    expect(canonicalNative({ state: 'open' })).toBeUndefined();
    expect(canonicalNative({ moisture: 20, firmware: 3 })).toBeUndefined();
    expect(canonicalNative({ seq: -1, moisture: 20 })).toBeUndefined();
  });
});
