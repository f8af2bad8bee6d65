import { describe, expect, it } from 'vitest';
import { assignMisbehaviours, initialMisbehaviour, misbehave, type MisbehaviourState } from '../../../firmware-sim/physics/misbehaviour.ts';
import { createRandom } from '../../../lib/random.ts';

const ids = Array.from({ length: 100 }, (_, i) => `d${i}`);

function run(state: MisbehaviourState, n: number, seed = 1) {
  const rng = createRandom(seed);
  const payloads: Array<string | undefined> = [];
  let s = state;
  for (let i = 0; i < n; i++) {
    const out = misbehave(s, { ts: 1_000_000 + i * 900_000, seq: i, moisture: 20 + i, battery: 90 }, 1_000_000 + i * 900_000, rng);
    s = out.state;
    payloads.push(out.payload);
  }
  return payloads;
}

const parses = (p: string | undefined): boolean => {
  try { JSON.parse(p!); return true; } catch { return false; }
};

describe('misbehaving devices', () => {
  it.each([0, 0.1, 0.25, 1])('assigns a share of %s of the fleet, repeatably for a seed', (share) => {
    const a = assignMisbehaviours(ids, share, createRandom(3));
    expect(a.size).toBe(Math.round(100 * share));
    expect([...assignMisbehaviours(ids, share, createRandom(3))]).toEqual([...a]);
    if (share === 1) expect(new Set(a.values())).toEqual(new Set(['malformed', 'stuck', 'clock_skew', 'silent']));
  });

  it('a stuck sensor repeats its first measured value while ts and seq move on', () => {
    const out = run(initialMisbehaviour('stuck', createRandom(1)), 5).map((p) => JSON.parse(p!));
    expect(out.map((r) => r.moisture)).toEqual([20, 20, 20, 20, 20]);
    expect(out.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
  });

  it('a skewed clock shifts every timestamp by the same large offset', () => {
    const s = initialMisbehaviour('clock_skew', createRandom(2));
    expect(Math.abs(s.skewMs)).toBeGreaterThan(300_000);
    const out = run(s, 3).map((p) => JSON.parse(p!));
    expect(out.map((r) => r.ts - 1_000_000)).toEqual([0, 900_000, 1_800_000].map((d) => d + s.skewMs));
  });

  it('a malformed sender mixes broken JSON, wrong types and impossible values with good readings', () => {
    const out = run(initialMisbehaviour('malformed', createRandom(1)), 200);
    const broken = out.filter((p) => !parses(p)).length;
    const wrongType = out.filter((p) => parses(p) && JSON.parse(p!).moisture === 'n/a').length;
    const outOfRange = out.filter((p) => parses(p) && JSON.parse(p!).moisture === 900).length;
    for (const n of [broken, wrongType, outOfRange]) expect(n).toBeGreaterThan(10);
    expect(out.length - broken - wrongType - outOfRange).toBeGreaterThan(80);
  });

  it('a silent device drops out for hours at a time', () => {
    const out = run(initialMisbehaviour('silent', createRandom(1)), 400);
    const silent = out.filter((p) => p === undefined).length;
    expect(silent).toBeGreaterThan(20);
    expect(silent).toBeLessThan(400);
  });
});
