import { describe, expect, it } from 'vitest';
import { bilingual, durationEn, durationZh, named, round } from '../../../lib/alert-text.ts';

describe('alert text pieces', () => {
  it.each([
    [0, '0 秒', '0 s'],
    [59_400, '59 秒', '59 s'],
    [60_000, '1 分钟', '1 min'],
    [4901_000, '1 小时 21 分钟', '1 h 21 min'],
    [2 * 3_600_000, '2 小时', '2 h'],
    [47 * 3_600_000 + 59 * 60_000, '47 小时 59 分钟', '47 h 59 min'],
    [48 * 3_600_000, '2 天', '2 d'],
    [3 * 86_400_000 + 5 * 3_600_000 + 30 * 60_000, '3 天 5 小时', '3 d 5 h'],
    [-5_000, '0 秒', '0 s'],
  ])('%i ms → %s / %s', (ms, zh, en) => {
    expect(durationZh(ms)).toBe(zh);
    expect(durationEn(ms)).toBe(en);
  });

  it('puts Chinese first, rounds without trailing zeros, names a place with its id', () => {
    expect(bilingual('网关离线', 'gateway offline')).toBe('网关离线 / gateway offline');
    expect([round(3.204), round(4), round(17.05, 1), round(-0.456)]).toEqual([3.2, 4, 17.1, -0.46]);
    expect([named('中心草坪', 'z-1'), named(undefined, 'z-1'), named('z-1', 'z-1')]).toEqual(['中心草坪(z-1)', 'z-1', 'z-1']);
  });
});
