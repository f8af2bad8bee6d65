import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DeviceInfo } from '../../../contracts/device.ts';
import type { AcceptedReading } from '../../../contracts/reading.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createMetrics } from '../../../lib/metrics.ts';
import type { DeadLetter } from '../../../ingest/dead-letters.ts';
import { createIngest } from '../../../ingest/pipeline.ts';
import { T0 } from '../../fixtures/uplinks/cases.ts';

const fixture = (file: string): Buffer => readFileSync(new URL(`../../fixtures/uplinks/${file}`, import.meta.url));

const device = (d: Partial<DeviceInfo> & Pick<DeviceInfo, 'id' | 'kind'>): DeviceInfo => ({
  devEui: undefined, reportIntervalS: 900, disabled: false,
  districtId: 'huangpu', communityId: 'xinhua-lane-12', zoneId: undefined, plant: undefined,
  facilityId: undefined, facilityType: undefined, baselinePitch: undefined, baselineRoll: undefined,
  ...d,
});

const DEVICES = [
  device({ id: 'soil-hp-001', kind: 'soil', devEui: '24e124126c470001', zoneId: 'xinhua-z1', plant: 'shrubs' }),
  device({ id: 'soil-hp-002', kind: 'soil', devEui: 'a840414b51870002', zoneId: 'xinhua-z2', plant: 'lawn' }),
  device({ id: 'tilt-hp-pav-01', kind: 'tilt', devEui: '24e124710c400003', facilityId: 'pavilion-1', facilityType: 'pavilion', baselinePitch: 0.5, baselineRoll: -0.3 }),
];

/** An ingest with a capturing durable log, a fake registry and a fixed clock (2 s after the readings). */
function harness(devices: DeviceInfo[] = DEVICES, now = T0 + 2_000) {
  const lines: string[] = [];
  const dead: DeadLetter[] = [];
  const readings: AcceptedReading[] = [];
  const ingest = createIngest({
    lookup: {
      get: (id) => devices.find((d) => d.id === id),
      getByDevEui: (eui) => devices.find((d) => d.devEui === eui),
    },
    append: async (batch) => { lines.push(...batch); },
    deadLetter: (letter) => dead.push(letter),
    onReading: (reading) => readings.push(reading),
    metrics: createMetrics({ defaults: false }),
    clock: createManualClock(now),
    logger: createLogger('silent'),
    limits: { maxFutureSkewMs: 300_000, maxPastAgeMs: 7 * 86_400_000, maxPayloadBytes: 65_536 },
  });
  const send = (topic: string, file: string) => ingest.handle({ topic, payload: fixture(file), qos: 1 });
  return { lines, dead, readings, send, ingest };
}

const CS = (app: string, eui: string) => `application/${app}/device/${eui}/event/up`;
const SOIL_APP_CS = '17c82e96-be03-4f38-aef3-f83d48582d97';

const TRIOS = [
  {
    name: 'Milesight EM500-SMTC soil reading',
    native: ['gs/soil-hp-001/up', 'native/soil-hp-001.json'],
    chirpstack: [CS(SOIL_APP_CS, '24e124126c470001'), 'chirpstack/em500-smtc.json'],
    tts: ['v3/greenspace-soil@ttn/devices/eui-24e124126c470001/up', 'tts/em500-smtc.json'],
    point: `soil,community=xinhua-lane-12,device=soil-hp-001,district=huangpu,plant=shrubs,zone=xinhua-z1 moisture=23.5,temperature=22.6,ec=1.25,battery=92,rssi=-84,snr=9.5 ${T0}`,
  },
  {
    name: 'Dragino LSE01 soil reading (string values, battery volts)',
    native: ['gs/soil-hp-002/up', 'native/soil-hp-002.json'],
    chirpstack: [CS(SOIL_APP_CS, 'a840414b51870002'), 'chirpstack/lse01.json'],
    tts: ['v3/greenspace-soil@ttn/devices/eui-a840414b51870002/up', 'tts/lse01.json'],
    point: `soil,community=xinhua-lane-12,device=soil-hp-002,district=huangpu,plant=lawn,zone=xinhua-z2 moisture=23.5,temperature=22.6,ec=1.25,battery=75,battery_v=3.45,rssi=-112,snr=-3.5 ${T0}`,
  },
  {
    name: 'Milesight EM320-TILT facility reading',
    native: ['gs/tilt-hp-pav-01/up', 'native/tilt-hp-pav-01.json'],
    chirpstack: [CS('6a0b7c1d-2e3f-4a5b-8c9d-0e1f2a3b4c5d', '24e124710c400003'), 'chirpstack/em320-tilt.json'],
    tts: ['v3/greenspace-facilities@ttn/devices/tilt-hp-pav-01/up', 'tts/em320-tilt.json'],
    // tilt = hypot(1.5 - 0.5, -0.8 + 0.3) from the facility's baseline
    point: `tilt,community=xinhua-lane-12,device=tilt-hp-pav-01,district=huangpu,facility=pavilion-1,facility_type=pavilion pitch=1.5,roll=-0.8,tilt=1.118,battery=97,rssi=-91,snr=7.25 ${T0}`,
  },
] as const;

describe('the same reading over every wire format', () => {
  it.each(TRIOS)('$name ends up as one identical point', async (trio) => {
    const points: Record<string, string[]> = {};
    for (const format of ['native', 'chirpstack', 'tts'] as const) {
      const h = harness(); // fresh state each time: tilt's delta depends on the previous reading
      const [topic, file] = trio[format];
      await h.send(topic, file);
      expect(h.dead, format).toStrictEqual([]);
      points[format] = h.lines;
    }
    expect(points).toStrictEqual({ native: [trio.point], chirpstack: [trio.point], tts: [trio.point] });
  });
});

describe('LoRaWAN re-deliveries', () => {
  it.each([
    ['a ChirpStack deduplicationId seen again', CS(SOIL_APP_CS, '24e124126c470001'), 'chirpstack/em500-smtc.json', /^reading 3ac7e3c4-4401-4b8d-9386-a5c902f9202d of soil-hp-001 was already accepted$/],
    ['a TTS uplink delivered again', 'v3/greenspace-soil@ttn/devices/eui-24e124126c470001/up', 'tts/em500-smtc.json', new RegExp(`^reading f1287@${T0} of soil-hp-001 was already accepted$`)],
  ])('refuses %s as duplicate', async (_name, topic, file, detail) => {
    const h = harness();
    await h.send(topic, file);
    await h.send(topic, file);
    expect(h.lines).toHaveLength(1);
    expect(h.dead).toHaveLength(1);
    expect(h.dead[0]).toMatchObject({ reason: 'duplicate', deviceId: 'soil-hp-001', topic });
    expect(h.dead[0]?.detail).toMatch(detail);
  });

  it('accepts the next uplink of the same device', async () => {
    const h = harness();
    await h.send(CS(SOIL_APP_CS, '24e124126c470001'), 'chirpstack/em500-smtc.json');
    await h.send(CS(SOIL_APP_CS, '24e124126c470001'), 'chirpstack/first-frame-defaults.json');
    expect(h.dead).toStrictEqual([]);
    // No `time` in the second uplink: stored at receive time.
    expect(h.lines).toHaveLength(2);
    expect(h.lines[1]).toMatch(new RegExp(` ${T0 + 2_000}$`));
  });
});

describe('finding the device of a LoRaWAN uplink', () => {
  it('falls back to the TTS device id when the uplink\'s dev EUI is not the registered one', async () => {
    const h = harness([device({ id: 'tilt-hp-pav-01', kind: 'tilt', devEui: '24e124710c4000ff', facilityId: 'pavilion-1', facilityType: 'pavilion' })]);
    await h.send('v3/greenspace-facilities@ttn/devices/tilt-hp-pav-01/up', 'tts/em320-tilt.json');
    expect(h.dead).toStrictEqual([]);
    expect(h.readings).toMatchObject([{ deviceId: 'tilt-hp-pav-01', source: 'tts', fCnt: 5021 }]);
  });

  it('refuses a ChirpStack uplink from an unregistered dev EUI', async () => {
    const h = harness(DEVICES.filter((d) => d.id !== 'soil-hp-001'));
    await h.send(CS(SOIL_APP_CS, '24e124126c470001'), 'chirpstack/em500-smtc.json');
    expect(h.lines).toStrictEqual([]);
    expect(h.dead).toMatchObject([{ reason: 'unknown_device', detail: 'dev EUI 24e124126c470001 is not registered' }]);
  });

  it('stores a TTS console-simulated uplink without its made-up radio values, and no rule sees it', async () => {
    const h = harness(DEVICES, Date.UTC(2026, 4, 1, 6, 5, 12));
    await h.send('v3/greenspace-soil@ttn/devices/eui-24e124126c470001/up', 'tts/simulated.json');
    expect(h.dead).toStrictEqual([]);
    expect(h.lines).toHaveLength(1);
    expect(h.lines[0]).toMatch(/^soil,.*device=soil-hp-001/);
    expect(h.lines[0]).not.toMatch(/rssi=/);
    expect(h.readings).toStrictEqual([]);
  });
});

describe('a network server speaks only for LoRaWAN devices', () => {
  it('refuses a TTS uplink that names a natively connected device by id', async () => {
    const native = device({ id: 'soil-native-1', kind: 'soil', zoneId: 'z' }); // no dev EUI
    const h = harness([native], Date.UTC(2026, 4, 1, 6, 5, 12));
    const body = JSON.stringify({
      end_device_ids: { device_id: 'soil-native-1', application_ids: { application_id: 'greenspace-soil' } },
      received_at: '2026-05-01T06:05:10Z',
      uplink_message: { f_cnt: 3, decoded_payload: { moisture: 30 }, received_at: '2026-05-01T06:05:10Z' },
    });
    await h.ingest.handle({ topic: 'v3/greenspace-soil@ttn/devices/soil-native-1/up', payload: Buffer.from(body), qos: 1 });
    expect(h.lines).toEqual([]);
    expect(h.dead).toMatchObject([{ reason: 'unknown_device', detail: 'device soil-native-1 is not a LoRaWAN device (no dev EUI registered)' }]);
  });
});
