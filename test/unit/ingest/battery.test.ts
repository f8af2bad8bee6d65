import { describe, expect, it } from 'vitest';
import { batteryPercentFromVolts } from '../../../ingest/battery.ts';
import { decode } from '../../../ingest/decode.ts';
import { checkReading } from '../../../ingest/validate.ts';
import { mapDecoded } from '../../../ingest/profile-map.ts';
import { createProfileSet } from '../../../ingest/profile-set.ts';
import { parseTopic } from '../../../contracts/topics.ts';

describe('batteryPercentFromVolts', () => {
  it.each([
    // A sagging cell under load reads below its 3.0 V cut-off: empty, not negative.
    { volts: 2.4, pct: 0 },
    { volts: 2.9, pct: 0 },
    { volts: 3.0, pct: 0 },
    { volts: 3.03, pct: 5 },
    { volts: 3.3, pct: 50 },
    { volts: 3.6, pct: 100 },
    // A fresh cell or a cold-morning reading runs above nominal: full, not over 100.
    { volts: 3.65, pct: 100 },
    { volts: 3.9, pct: 100 },
  ])('$volts V → $pct %', ({ volts, pct }) => {
    expect(batteryPercentFromVolts(volts)).toBe(pct);
  });
});

describe('a reading with its battery outside the cell\'s curve is still accepted', () => {
  const limits = { maxFutureSkewMs: 60_000, maxPastAgeMs: 86_400_000 };
  const now = Date.parse('2026-06-15T05:00:00Z');

  it.each([
    { batteryV: 2.9, battery: 0 },
    { batteryV: 3.7, battery: 100 },
  ])('native batteryV $batteryV → battery $battery, in range', ({ batteryV, battery }) => {
    const [item] = decode(parseTopic('gs/soil-1/up')!, Buffer.from(JSON.stringify({ ts: now, moisture: 21, batteryV })));
    expect(item?.ok).toBe(true);
    if (!item?.ok) return;
    const { fields } = item.value.reading;
    expect(fields.battery).toBe(battery);
    // The nearly empty cell is when the reading matters most: it must not be refused.
    expect(checkReading(fields, 'soil', now, now, limits)).toBeUndefined();
  });

  it('a LoRaWAN codec\'s BatV below the cut-off maps to 0 %', () => {
    const profile = createProfileSet([]).forDevice({ id: 's', kind: 'soil', devEui: '0011223344556677', reportIntervalS: 900, disabled: false } as Parameters<ReturnType<typeof createProfileSet>['forDevice']>[0]);
    expect(mapDecoded({ BatV: 2.9, water_SOIL: '18.20' }, profile)).toStrictEqual({ fields: { batteryV: 2.9, battery: 0, moisture: 18.2 }, refusals: [], seen: 2 });
  });
});
