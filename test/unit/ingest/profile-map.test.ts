import { describe, expect, it } from 'vitest';
import type { DeviceInfo } from '../../../contracts/device.ts';
import type { DeviceKind, ReadingFields } from '../../../contracts/reading.ts';
import { DeviceProfile } from '../../../contracts/device-profile.ts';
import { pickBestGateway } from '../../../ingest/decoders/radio.ts';
import { compileProfile, describeMissing, historyTime, mapDecoded, parseValue } from '../../../ingest/profile-map.ts';
import { createProfileSet } from '../../../ingest/profile-set.ts';

const device = (kind: DeviceKind, profile?: string): DeviceInfo => ({
  id: `${kind}-1`, kind, devEui: '0011223344556677', reportIntervalS: 900, disabled: false, districtId: 'd', communityId: 'c',
  zoneId: undefined, plant: undefined, facilityId: undefined, facilityType: undefined, baselinePitch: undefined, baselineRoll: undefined, profile,
});
const generic = createProfileSet([]);

describe('the generic field names (a device without a profile)', () => {
  it.each<[string, DeviceKind, Record<string, unknown>, ReadingFields]>([
    ['Milesight EM500-SMTC: ec µS/cm → mS/cm', 'soil', { battery: 88, temperature: 21.4, moisture: 40.5, ec: 987 }, { battery: 88, temperature: 21.4, moisture: 40.5, ec: 0.987 }],
    ['Dragino LSE01: strings coerced, BatV kept and → %', 'soil', { BatV: 3.3, water_SOIL: '12.05', temp_SOIL: '-1.30', conduct_SOIL: '20000', TempC_DS18B20: '327.6' }, { batteryV: 3.3, battery: 50, moisture: 12.05, temperature: -1.3, ec: 20 }],
    ['Dragino LSE01, TTN repository codec: Bat in volts', 'soil', { Bat: 3.0, water_SOIL: '0.00', temp_SOIL: '5.00', conduct_SOIL: 0 }, { batteryV: 3, battery: 0, moisture: 0, temperature: 5, ec: 0 }],
    ['Milesight EM320-TILT: x → pitch, y → roll; z and thresholds ignored', 'tilt', { battery: 64, angle_x: -12.25, angle_y: 3, angle_z: 77.1, threshold_x: 'trigger' }, { battery: 64, pitch: -12.25, roll: 3 }],
    ['our names win over vendor aliases', 'soil', { battery: 90, BatV: 3.0, moisture: 30, water_SOIL: '10.00' }, { battery: 90, batteryV: 3, moisture: 30 }],
    ['null means the sensor did not answer: absent', 'soil', { moisture: 22, temperature: null, ec: null }, { moisture: 22 }],
    ['valve state spelled as devices spell it', 'valve', { state: 'CLOSED', flow: 0, volume: '1200.5' }, { state: 0, flow: 0, volume: 1200.5 }],
    ['rain gauge with battery volts', 'rain', { rainfall: 2.5, batteryV: '3.45' }, { rainfall: 2.5, batteryV: 3.45, battery: 75 }],
    ['a value with its unit: the written unit wins', 'soil', { moisture: 20, conduct_SOIL: '1250 uS/cm', Bat: '3.625 V' }, { moisture: 20, ec: 1.25, batteryV: 3.625, battery: 100 }],
  ])('%s', (_name, kind, decoded, fields) => {
    const mapped = mapDecoded(decoded, generic.forDevice(device(kind)));
    expect(mapped.refusals).toEqual([]);
    expect(mapped.fields).toStrictEqual(fields);
  });

  it.each<[string, Record<string, unknown>, ReadingFields, Array<[string, string, RegExp]>]>([
    ['a boolean moisture beside good fields', { moisture: true, temperature: 20 }, { temperature: 20 }, [['moisture', 'unparsable', /^moisture: expected a number, a numeric string or a number with its unit, got true$/]]],
    ['an empty string', { moisture: 12, ec: '' }, { moisture: 12 }, [['ec', 'unparsable', /^ec: .*got ""$/]]],
    ['a unit that is not the field\'s', { moisture: 12, conduct_SOIL: '1250 °C' }, { moisture: 12 }, [['ec', 'unit', /^conduct_SOIL: "1250 °C" is not in a unit of ec \(mS\/cm\)$/]]],
    ['EC past the store\'s range (28,200 µS/cm)', { moisture: 31, temperature: 18, conduct_SOIL: 28200 }, { moisture: 31, temperature: 18 }, [['ec', 'out_of_range', /^conduct_SOIL: 28.2 mS\/cm is outside 0..20$/]]],
  ])('drops only the bad field: %s', (_name, decoded, fields, refusals) => {
    const mapped = mapDecoded(decoded, generic.forDevice(device('soil')));
    expect(mapped.fields).toStrictEqual(fields);
    expect(mapped.refusals.map((r) => [r.field, r.reason])).toEqual(refusals.map(([f, r]) => [f, r]));
    mapped.refusals.forEach((r, i) => expect(r.detail).toMatch(refusals[i]![2]));
  });

  it.each<[string, Record<string, unknown>, 'schema' | 'out_of_range', RegExp]>([
    ['an empty object', {}, 'schema', /^a soil reading needs moisture \(profile generic\): none of moisture, water_SOIL in object \(saw an empty object\)$/],
    ['only unknown keys, many', Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i])), 'schema', /\(saw k0, k1, k2, k3, k4, k5, k6, k7, … \(12 keys\)\)$/],
    ['moisture out of range', { moisture: 140, temperature: 20 }, 'out_of_range', /^a soil reading needs moisture \(profile generic\): moisture: 140 % is outside 0..100$/],
  ])('refuses a reading whose required field is not usable: %s', (_name, decoded, reason, detail) => {
    const profile = generic.forDevice(device('soil'));
    const missing = describeMissing(mapDecoded(decoded, profile), profile, decoded, 'object');
    expect(missing?.reason).toBe(reason);
    expect(missing?.detail).toMatch(detail);
  });
});

describe('parseValue: units and conversions', () => {
  it.each<[unknown, Parameters<typeof parseValue>[1], Parameters<typeof parseValue>[2], number]>([
    [28200, 'ec', 'uS/cm', 28.2],
    ['1.5 dS/m', 'ec', 'uS/cm', 1.5],
    [455, 'moisture', '‰', 45.5],
    [0.318, 'moisture', 'fraction', 31.8],
    [68, 'temperature', '°F', 20],
    ['21.5℃', 'temperature', '°C', 21.5],
    [2885, 'batteryV', 'mV', 2.885],
    ['3625 mV', 'batteryV', 'V', 3.625],
    ['  -12.5 ', 'pitch', '°', -12.5],
  ])('%j as %s in %s → %d', (raw, target, unit, value) => {
    expect(parseValue(raw, target, unit)).toEqual({ ok: true, value });
  });

  it.each<[unknown, string]>([[Number.NaN, 'unparsable'], ['abc', 'unparsable'], [{ v: 1 }, 'unparsable'], ['3.6 volts', 'unit']])('%j is refused (%s)', (raw, reason) => {
    expect(parseValue(raw, 'batteryV', 'V')).toMatchObject({ ok: false, reason });
  });
});

describe('battery percent by the profile\'s curve', () => {
  const profile = compileProfile(DeviceProfile.parse({
    id: 'li-socl2', vendor: 'Dragino', model: 'SE01-LB', kind: 'soil',
    fields: { moisture: { from: ['water_SOIL'], unit: '%' }, batteryV: { from: ['BatV'], unit: 'V' } },
    battery: { chemistry: 'Li-SOCl2 ER18505', curve: [[2.5, 0], [3.0, 10], [3.3, 40], [3.6, 100]] },
  }));
  it.each([[2.4, 0], [2.885, 7.7], [3.15, 25], [3.45, 70], [3.7, 100]])('%d V → %d %', (volts, pct) => {
    const { fields } = mapDecoded({ water_SOIL: 20, BatV: volts }, profile);
    expect(fields.battery).toBe(pct);
    expect(fields.batteryV).toBe(volts); // the raw voltage is kept as its own field
  });
  it('2,885 mV is a working cell on a 2.5–3.6 V curve (the linear 3.0–3.6 V map said 0 %)', () => {
    expect(mapDecoded({ water_SOIL: 20, BatV: 2.885 }, profile).fields.battery).toBe(7.7);
  });
});

describe('history records', () => {
  const history = { path: 'history', time: { key: 'timestamp', format: 'epoch_s' as const }, max: 64 };
  it.each<[Record<string, unknown>, number | RegExp]>([
    [{ timestamp: 1_764_151_200 }, 1_764_151_200_000],
    [{ timestamp: '1764151200' }, 1_764_151_200_000],
    [{ timestamp: -5 }, /^timestamp: expected epoch seconds, got -5$/],
    [{}, /^timestamp: expected epoch seconds, got undefined$/],
  ])('%j', (record, expected) => {
    const got = historyTime(record, history);
    if (typeof expected === 'number') expect(got).toBe(expected);
    else expect(got).toMatch(expected);
  });
  it('reads ISO times and epoch milliseconds', () => {
    expect(historyTime({ t: '2026-11-26T10:00:00Z' }, { ...history, time: { key: 't', format: 'iso' } })).toBe(Date.parse('2026-11-26T10:00:00Z'));
    expect(historyTime({ t: 1_764_151_200_123 }, { ...history, time: { key: 't', format: 'epoch_ms' } })).toBe(1_764_151_200_123);
  });
});

describe('pickBestGateway', () => {
  it.each<[string, Array<{ rssi: number | undefined; snr: number | undefined }>, { rssi: number; snr: number | undefined } | undefined]>([
    ['none heard it', [], undefined],
    ['no RSSI reported', [{ rssi: undefined, snr: 5 }], undefined],
    ['strongest RSSI wins', [{ rssi: -110, snr: 8 }, { rssi: -90, snr: -2 }, { rssi: -100, snr: 10 }], { rssi: -90, snr: -2 }],
    ['a tie goes to the better SNR', [{ rssi: -91, snr: 6 }, { rssi: -91, snr: 7.25 }], { rssi: -91, snr: 7.25 }],
    ['a gateway without SNR', [{ rssi: -80, snr: undefined }], { rssi: -80, snr: undefined }],
  ])('%s', (_name, gateways, best) => {
    expect(pickBestGateway(gateways)).toStrictEqual(best);
  });
});
