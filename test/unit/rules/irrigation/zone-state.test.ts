import { describe, expect, it } from 'vitest';
import { aggregateZone, median, trackReading, type SensorTrack } from '../../../../rules/irrigation/zone-state.ts';
import { isInWindow, validateWindow } from '../../../../rules/irrigation/windows.ts';
import { DEFAULT_BANDS, DEFAULT_SOIL_OFFSET, defaultSettings, resolveBand, seasonalFactorAt } from '../../../../rules/irrigation/settings.ts';
import { fao56Band, SOIL_WATER } from '../../../../contracts/zone.ts';
import { bandProblem } from '../../../../contracts/zone-feasibility.ts';

const T = Date.parse('2026-06-15T05:00:00Z');
const limits = { staleFactor: 3, stuckCount: 4, validRange: [1, 60] as const };
const track = (deviceId: string, moisture: number, ageS = 0, sameCount = 1): SensorTrack => ({ deviceId, lastAt: T - ageS * 1000, moisture, intervalS: 900, sameCount });

describe('zone state', () => {
  it.each([
    { values: [], expected: undefined },
    { values: [20], expected: 20 },
    { values: [30, 10], expected: 20 },
    { values: [22, 21, 90], expected: 22 },
  ])('median of $values is $expected', ({ values, expected }) => {
    expect(median(values)).toBe(expected);
  });

  it('counts fresh, healthy sensors and says why each other one is left out', () => {
    const agg = aggregateZone([
      track('a', 21), track('b', 23, 2_000), track('c', 40, 2_800), track('d', 0.3), track('e', 22, 0, 4), track('f', 80),
    ], T, limits);
    expect(agg).toEqual({
      moisture: 22,
      temperatureC: undefined,
      counted: ['a', 'b'],
      excluded: [{ deviceId: 'c', reason: 'stale' }, { deviceId: 'd', reason: 'out_of_range' }, { deviceId: 'e', reason: 'stuck' }, { deviceId: 'f', reason: 'out_of_range' }],
    });
  });

  it.each([
    { ageS: 2_700, stale: false },
    { ageS: 2_701, stale: true },
  ])('a sensor $ageS s old (interval 900 s, k = 3) is stale: $stale', ({ ageS, stale }) => {
    expect(aggregateZone([track('a', 20, ageS)], T, limits).counted).toEqual(stale ? [] : ['a']);
  });

  it('counts identical readings in a row, resets on change, and ignores late readings', () => {
    let t = trackReading(undefined, { deviceId: 'a', at: T, moisture: 20, intervalS: 900 });
    t = trackReading(t, { deviceId: 'a', at: T + 1, moisture: 20, intervalS: 900 });
    t = trackReading(t, { deviceId: 'a', at: T + 2, moisture: 20, intervalS: 900 });
    expect(t.sameCount).toBe(3);
    expect(trackReading(t, { deviceId: 'a', at: T - 5, moisture: 50, intervalS: 900 })).toBe(t);
    expect(trackReading(t, { deviceId: 'a', at: T + 3, moisture: 20.1, intervalS: 900 }).sameCount).toBe(1);
    // the same moisture with another soil temperature is a live sensor on stable soil
    expect(trackReading(t, { deviceId: 'a', at: T + 3, moisture: 20, temperature: 18.2, intervalS: 900 }).sameCount).toBe(1);
  });
});

describe('watering windows', () => {
  it.each([
    { local: '2026-06-15T04:59:59+08:00', inside: false },
    { local: '2026-06-15T05:00:00+08:00', inside: true },
    { local: '2026-06-15T06:59:30+08:00', inside: true },
    { local: '2026-06-15T07:00:00+08:00', inside: false },
    { local: '2026-06-15T19:30:00+08:00', inside: true },
    { local: '2026-06-15T21:00:00+08:00', inside: false },
  ])('default windows at $local: $inside', ({ local, inside }) => {
    const s = defaultSettings();
    expect(isInWindow(s.windows, Date.parse(local), s.timezone)).toBe(inside);
  });

  it('an invalid expression matches nothing and is reported by validateWindow', () => {
    expect(isInWindow(['not a cron'], T, 'UTC')).toBe(false);
    expect(() => validateWindow('not a cron')).toThrow();
    expect(() => validateWindow('* 5-6 * * 1-5')).not.toThrow();
  });
});

describe('settings', () => {
  // The default band is FAO-56's (contracts/zone.ts fao56Band): low = wilting point + (1 − p) × TAW, high = field capacity + 2.
  it.each([
    { plant: 'lawn' as const, soil: 'loam' as const, band: { low: 22, high: 30 } },
    { plant: 'shrubs' as const, soil: 'loam' as const, band: { low: 20.5, high: 30 } },
    { plant: 'lawn' as const, soil: 'sand' as const, band: { low: 9.2, high: 14 } },
    { plant: 'lawn' as const, soil: 'clay' as const, band: { low: 31.6, high: 40 } },
  ])('$plant on $soil: $band.low–$band.high %', ({ plant, soil, band }) => {
    expect(resolveBand({ plant, soil }, defaultSettings())).toEqual(band);
  });

  it('a sand lawn with no band gets one its soil can hold (the old table gave 11–21 against a field capacity of 12)', () => {
    const band = resolveBand({ plant: 'lawn', soil: 'sand' }, defaultSettings());
    expect(bandProblem(band, 'sand')).toBeUndefined();
    // Inside the soil's water: above wilting point 5, under field capacity 12, high no more than 2 above it (the old high 21 was 9 above).
    expect(band.low).toBeGreaterThan(SOIL_WATER.sand.wiltingPoint);
    expect(band.low).toBeLessThan(SOIL_WATER.sand.fieldCapacity);
    expect(band.high).toBeLessThanOrEqual(SOIL_WATER.sand.fieldCapacity + 2);
  });

  it('a loam lawn with no band gets the FAO-56 value', () => {
    expect(resolveBand({ plant: 'lawn', soil: 'loam' }, defaultSettings())).toEqual(fao56Band('lawn', 'loam'));
  });

  it.each([
    { name: 'bands and soilOffset', settings: { bands: DEFAULT_BANDS, soilOffset: DEFAULT_SOIL_OFFSET }, band: { low: 11, high: 21 } },
    { name: 'bands only (offsets default)', settings: { bands: { ...DEFAULT_BANDS, lawn: { low: 18, high: 28 } } }, band: { low: 9, high: 19 } },
    { name: 'soilOffset only (bands default)', settings: { soilOffset: { sand: -8, loam: 0, clay: 8 } }, band: { low: 12, high: 22 } },
  ])('a deployment that sets $name keeps its table: sand lawn $band.low–$band.high %', ({ settings, band }) => {
    expect(resolveBand({ plant: 'lawn', soil: 'sand' }, defaultSettings(settings))).toEqual(band);
  });

  it('a zone override wins over the plant default', () => {
    expect(resolveBand({ plant: 'lawn', soil: 'clay', band: { low: 24, high: 33 } }, defaultSettings())).toEqual({ low: 24, high: 33 });
    expect(resolveBand({ plant: 'lawn', soil: 'clay', band: { low: 24, high: 33 } }, defaultSettings({ bands: DEFAULT_BANDS }))).toEqual({ low: 24, high: 33 });
  });

  it('reads the month in the deployment time zone', () => {
    // 31 Jan 20:00 UTC is already 1 February in Shanghai
    expect(seasonalFactorAt(Date.parse('2026-01-31T20:00:00Z'), defaultSettings({ seasonalFactor: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((n) => n / 10) }))).toBe(0.2);
  });
});
