import { describe, expect, it } from 'vitest';
import { rankCommunities, scoreCommunity, type CommunityMetrics } from '../../../assessment/score.ts';
import { monthPeriod } from '../../../assessment/collect.ts';
import { bandFor } from '../../../assessment/bands.ts';
import { DEFAULT_BANDS } from '../../../rules/irrigation/settings.ts';

const HOUR = 3_600_000;
const m = (over: Partial<CommunityMetrics>): CommunityMetrics => ({
  communityId: 'c', districtId: 'd', devices: 1, uptime: null, zones: 0, inBand: null, alerts: 0, mttaMs: null, mttrMs: null,
  workOrdersDue: 0, workOrdersOnTime: 0, slaCompliance: null, ...over,
});

describe('scorecard formula', () => {
  it.each([
    ['everything perfect', { uptime: 1, inBand: 1, slaCompliance: 1, mttaMs: 10 * 60_000, mttrMs: HOUR }, 100],
    ['all parts at half', { uptime: 0.5, inBand: 0.5, slaCompliance: 0.5, mttaMs: 60 * 60_000, mttrMs: 48 * HOUR }, 50],
    // 0.3·0.9 + 0.3·0.8 + 0.25·0.5 + 0.15·mean(1, 0.5) = 0.27 + 0.24 + 0.125 + 0.1125 = 0.7475
    ['a mixed month', { uptime: 0.9, inBand: 0.8, slaCompliance: 0.5, mttaMs: 20 * 60_000, mttrMs: 48 * HOUR }, 74.8],
    // No faults: renormalised over uptime and band only → (0.3·0.9 + 0.3·0.7) / 0.6 = 0.8
    ['no faults this month', { uptime: 0.9, inBand: 0.7 }, 80],
    ['nothing measurable', {}, null],
  ])('%s → %s', (_name, over, score) => {
    expect(scoreCommunity(m(over))).toBe(score);
  });

  it('ranks best first, ties share a rank, unscored last', () => {
    const rows = rankCommunities([
      m({ communityId: 'c-a', uptime: 0.5 }), m({ communityId: 'c-b', uptime: 0.9 }), m({ communityId: 'c-c', uptime: 0.5 }), m({ communityId: 'c-d' }),
    ]);
    expect(rows.map((r) => [r.communityId, r.score, r.rank])).toEqual([['c-b', 90, 1], ['c-a', 50, 2], ['c-c', 50, 2], ['c-d', null, 4]]);
  });
});

describe('scorecard periods and bands', () => {
  it.each([
    ['2026-10', 480, Date.UTC(2026, 8, 30, 16), Date.UTC(2026, 9, 31, 16)],
    ['2026-12', 0, Date.UTC(2026, 11, 1), Date.UTC(2027, 0, 1)],
  ])('%s at UTC%+d min', (month, offset, from, to) => {
    expect(monthPeriod(month, offset)).toEqual({ from, to });
  });
  it('refuses a malformed month', () => expect(() => monthPeriod('2026-13')).toThrow(/YYYY-MM/));
  it('uses the zone\'s own band, else the FAO-56 band the irrigation rules default to, else the deployment\'s table', () => {
    // rules/irrigation/settings.ts resolveBand: the scorecard measures the band the rules keep.
    const zone = (plant: string, soil: string, low: number | null = null, high: number | null = null) => ({ plant, soil, low, high });
    expect(bandFor(zone('lawn', 'loam'))).toEqual({ low: 22, high: 30 });
    // Half a band is no band to the irrigation zone source (irrigation/zone-source.ts): FAO-56, as it waters.
    expect(bandFor(zone('lawn', 'loam', 25, null))).toEqual({ low: 22, high: 30 });
    expect(bandFor(zone('cactus', 'peat'))).toEqual({ low: 20.5, high: 30 });
    expect(bandFor(zone('lawn', 'clay'))).toEqual({ low: 31.6, high: 40 });
    expect(bandFor(zone('lawn', 'sand'))).toEqual({ low: 9.2, high: 14 });
    expect(bandFor(zone('lawn', 'sand', 22, 31), { bands: DEFAULT_BANDS })).toEqual({ low: 22, high: 31 }); // a zone's own band is absolute
    // A deployment's table, shifted for the soil; either half alone keeps the table.
    expect(bandFor(zone('lawn', 'clay'), { bands: DEFAULT_BANDS })).toEqual({ low: 28, high: 38 });
    expect(bandFor(zone('lawn', 'clay'), { soilOffset: { sand: -9, loam: 0, clay: 5 } })).toEqual({ low: 25, high: 35 });
  });
});
