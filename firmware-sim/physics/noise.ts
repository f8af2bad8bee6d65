import type { Random } from '../../lib/random.ts';

/** A standard normal sample (Box–Muller) from the seeded PRNG. */
export function gaussian(rng: Random): number {
  const u = Math.max(rng(), 1e-12);
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Sensors report a fixed number of decimals, as real firmware does. */
export const round = (value: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
};

export const clamp = (value: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, value));

/** Uniform in [lo, hi). */
export const uniform = (rng: Random, lo: number, hi: number): number => lo + (hi - lo) * rng();
