import { describe, expect, it } from 'vitest';
import { toLine } from '../../../influx/line-protocol.ts';

describe('toLine', () => {
  it('writes sorted tags, float fields and a millisecond timestamp', () => {
    expect(toLine('soil', { zone: 'z1', device: 'd1', community: 'c1' }, { moisture: 23, temperature: 18.5 }, 1700000000123))
      .toBe('soil,community=c1,device=d1,zone=z1 moisture=23,temperature=18.5 1700000000123');
  });

  it('escapes what line protocol requires and leaves out empty tags and missing fields', () => {
    expect(toLine('a b,c', { 'k=1': 'v 1,2', empty: '', none: undefined }, { 'f x': 1, gone: undefined, s: 'say "hi"\\\nnow', ok: true }, 5))
      .toBe('a\\ b\\,c,k\\=1=v\\ 1\\,2 f\\ x=1,s="say \\"hi\\"\\\\ now",ok=true 5');
  });

  it('refuses a point without fields and drops non-finite numbers', () => {
    expect(() => toLine('m', {}, { x: Number.NaN }, 1)).toThrow(/at least one field/);
  });
});
