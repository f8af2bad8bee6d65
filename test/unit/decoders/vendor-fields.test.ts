import { describe, expect, it } from 'vitest';
import { parseTopic } from '../../../contracts/topics.ts';
import { decode } from '../../../ingest/decode.ts';
import { mapDecodedFields, pickBestGateway } from '../../../ingest/decoders/vendor-fields.ts';
import type { ReadingFields } from '../../../contracts/reading.ts';

const lorawan = { ecUnit: 'uS/cm', path: 'object' } as const;

describe('mapDecodedFields', () => {
  it.each<[string, Record<string, unknown>, ReadingFields]>([
    ['Milesight EM500-SMTC: ec µS/cm → mS/cm', { battery: 88, temperature: 21.4, moisture: 40.5, ec: 987 }, { battery: 88, temperature: 21.4, moisture: 40.5, ec: 0.987 }],
    ['Dragino LSE01: strings coerced, BatV → %', { BatV: 3.3, water_SOIL: '12.05', temp_SOIL: '-1.30', conduct_SOIL: '20000', TempC_DS18B20: '327.6' }, { battery: 50, moisture: 12.05, temperature: -1.3, ec: 20 }],
    ['Dragino LSE01, TTN repository codec: Bat in volts', { Bat: 3.0, water_SOIL: '0.00', temp_SOIL: '5.00', conduct_SOIL: 0 }, { battery: 0, moisture: 0, temperature: 5, ec: 0 }],
    ['Milesight EM320-TILT: x → pitch, y → roll; z and thresholds ignored', { battery: 64, angle_x: -12.25, angle_y: 3, angle_z: 77.1, threshold_x: 'trigger' }, { battery: 64, pitch: -12.25, roll: 3 }],
    ['our names win over vendor aliases', { battery: 90, BatV: 3.0, moisture: 30, water_SOIL: '10.00' }, { battery: 90, moisture: 30 }],
    ['null means the sensor did not answer: absent', { moisture: 22, temperature: null, ec: null }, { moisture: 22 }],
    ['valve state spelled as devices spell it', { state: 'CLOSED', flow: 0, volume: '1200.5' }, { state: 0, flow: 0, volume: 1200.5 }],
    ['rain gauge with battery volts', { rainfall: 2.5, batteryV: '3.45' }, { rainfall: 2.5, battery: 75 }],
  ])('%s', (_name, decoded, fields) => {
    expect(mapDecodedFields(decoded, lorawan)).toStrictEqual({ ok: true, value: fields });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['an empty object', {}, /^object has none of our fields \(saw an empty object\)/],
    ['only unknown keys, many', Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i])), /^object has none of our fields \(saw k0, k1, k2, k3, k4, k5, k6, k7, … \(12 keys\)\)/],
    ['a boolean moisture', { moisture: true }, /^object\.moisture: expected a number or a numeric string, got true$/],
    ['an empty string', { moisture: '' }, /^object\.moisture: expected a number or a numeric string, got ""$/],
    ['a value with its unit', { conduct_SOIL: '1250 uS/cm' }, /^object\.conduct_SOIL: expected a number or a numeric string, got "1250 uS\/cm"$/],
    ['a bad valve state', { state: 'half' }, /^object\.state: expected open\/closed, on\/off, 1\/0 or a boolean, got "half"$/],
    ['a bad value beside good ones', { moisture: 20, angle_x: 'NaN' }, /^object\.angle_x: /],
  ])('refuses %s', (_name, decoded, detail) => {
    const result = mapDecodedFields(decoded, lorawan);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.reason).toBe('schema');
      expect(result.error.detail).toMatch(detail);
    }
  });

  // Applied to a native reading with the native convention, the mapping gives the same
  // fields as the native decoder: our names pass through, nothing is converted twice.
  it.each([
    { moisture: 23.5, temperature: '22.6', ec: 1.25, battery: 92, rssi: -84, snr: 9.5 },
    { pitch: 1.5, roll: -0.8, shock: 0.2, batteryV: 3.45 },
    { state: 'open', flow: '12.5', volume: 340 },
  ])('is harmless for native readings: %j', (reading) => {
    const native = decode(parseTopic('gs/dev-1/up')!, Buffer.from(JSON.stringify(reading)));
    expect(native[0]?.ok).toBe(true);
    const mapped = mapDecodedFields(reading, { ecUnit: 'mS/cm', path: 'payload' });
    expect(mapped).toStrictEqual({ ok: true, value: native[0]?.ok ? native[0].value.reading.fields : undefined });
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
