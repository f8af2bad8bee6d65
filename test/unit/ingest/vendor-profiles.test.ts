import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeviceInfo } from '../../../contracts/device.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createMetrics } from '../../../lib/metrics.ts';
import type { DeadLetter } from '../../../ingest/dead-letters.ts';
import { createIngest } from '../../../ingest/pipeline.ts';
import { createProfileSet, loadProfiles } from '../../../ingest/profile-set.ts';
import { chirpstackUp, devEuiOf, EXPECTED, loadVendorFixtures, ttsUp } from '../../fixtures/vendor-uplinks/cases.ts';

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const CS_APP = '17c82e96-be03-4f38-aef3-f83d48582d97';
const FIXTURES = loadVendorFixtures();

const device = (d: Partial<DeviceInfo> & Pick<DeviceInfo, 'id' | 'kind'>): DeviceInfo => ({
  devEui: undefined, reportIntervalS: 900, disabled: false, districtId: 'huangpu', communityId: 'xinhua-lane-12', zoneId: 'z1', plant: 'lawn',
  facilityId: undefined, facilityType: undefined, baselinePitch: undefined, baselineRoll: undefined, ...d,
});

function harness(devices: DeviceInfo[], profileDir?: string) {
  const lines: string[] = [];
  const dead: DeadLetter[] = [];
  const metrics = createMetrics({ defaults: false });
  const loaded = loadProfiles(profileDir);
  expect(loaded.problems).toEqual([]);
  const ingest = createIngest({
    lookup: { get: (id) => devices.find((d) => d.id === id), getByDevEui: (eui) => devices.find((d) => d.devEui === eui) },
    append: async (batch) => { lines.push(...batch); },
    deadLetter: (letter) => dead.push(letter),
    profiles: createProfileSet(loaded.profiles),
    metrics,
    clock: createManualClock(NOW),
    logger: createLogger('silent'),
    limits: { maxFutureSkewMs: 300_000, maxPastAgeMs: 7 * 86_400_000, maxPayloadBytes: 65_536 },
  });
  return { lines, dead, metrics, ingest };
}

/** `soil,tags a=1,b=2 1234` → its fields and time. */
const parseLine = (line: string): { fields: Record<string, number>; at: number } => {
  const [, fieldSet, at] = line.split(' ') as [string, string, string];
  return { fields: Object.fromEntries(fieldSet.split(',').map((kv) => [kv.split('=')[0]!, Number(kv.split('=')[1])])), at: Number(at) };
};

describe('vendor-decoder output, through each network server, is stored field by field in our units', () => {
  it('has an expectation for every fixture, and a fixture for every shipped profile', () => {
    expect(FIXTURES.map((f) => f.name).sort()).toEqual(Object.keys(EXPECTED).sort());
    const covered = new Set(FIXTURES.map((f) => f.profile));
    const shipped = loadProfiles(undefined).profiles.map((p) => p.profile.id);
    expect(shipped.filter((id) => !covered.has(id))).toEqual([]);
  });

  it.each(FIXTURES.flatMap((f, i) => (['chirpstack', 'tts'] as const).map((format) => [`${f.name} via ${format}`, f, i, format] as const)))('%s', async (_name, f, i, format) => {
    const expected = EXPECTED[f.name]!;
    const devEui = devEuiOf(i);
    const d = device({ id: `dev-${i}`, kind: expected.kind, devEui, profile: f.profile, ...(expected.kind === 'tilt' ? { zoneId: undefined, plant: undefined, facilityId: 'pav', facilityType: 'pavilion' } : {}) });
    const h = harness([d]);
    const time = new Date(NOW - 1_000).toISOString();
    const [topic, payload] = format === 'chirpstack'
      ? [`application/${CS_APP}/device/${devEui}/event/up`, chirpstackUp(f, devEui, { applicationId: CS_APP, time, fCnt: 10 + i, deduplicationId: `dd-${i}` })]
      : [`v3/greenspace@ttn/devices/${d.id}/up`, ttsUp(f, devEui, { application: 'greenspace', deviceId: d.id, receivedAt: time, fCnt: 10 + i })];
    await h.ingest.handle({ topic, payload, qos: 1 });
    if ('refused' in expected) {
      expect(h.lines).toEqual([]);
      expect(h.dead).toHaveLength(1);
      expect(h.dead[0]).toMatchObject({ reason: expected.refused, deviceId: d.id });
      expect(h.dead[0]!.detail).toMatch(expected.detail);
      return;
    }
    const radio = format === 'chirpstack' ? { rssi: -97, snr: 4.2 } : { rssi: -101, snr: 6.5 };
    const points = h.lines.map(parseLine);
    expect(points).toEqual(expected.points.map((p) => ({ fields: p.at === undefined ? { ...p.fields, ...radio } : p.fields, at: p.at ?? NOW - 1_000 })));
    expect(h.dead.map((x) => x.detail)).toHaveLength(expected.fieldsRefused?.length ?? 0);
    h.dead.forEach((x, k) => expect(x.detail).toMatch(expected.fieldsRefused![k]!));
  });
});

describe('partial acceptance is visible per field', () => {
  it('counts a dropped field by profile, field and reason, and dead-letters it for the device', async () => {
    const f = FIXTURES.find((x) => x.name === 'dragino-se01-lb')!;
    const d = device({ id: 'se01', kind: 'soil', devEui: devEuiOf(0), profile: 'dragino-se01-lb' });
    const h = harness([d]);
    await h.ingest.handle({ topic: `application/${CS_APP}/device/${d.devEui}/event/up`, payload: chirpstackUp(f, d.devEui!, { applicationId: CS_APP, time: new Date(NOW).toISOString(), fCnt: 1, deduplicationId: 'x1' }), qos: 1 });
    expect(h.lines).toHaveLength(1);
    expect(h.dead).toMatchObject([{ reason: 'out_of_range', deviceId: 'se01' }]);
    const text = await h.metrics.registry.metrics();
    expect(text).toContain('gs_reading_fields_refused_total{profile="dragino-se01-lb",field="ec",reason="out_of_range"} 1');
    expect(text).not.toMatch(/gs_readings_rejected_total\{reason="out_of_range"\} [1-9]/);
  });

  it('keeps a native reading\'s valid fields when one is out of range, and refuses it whole when the required one is', async () => {
    const d = device({ id: 'soil-n', kind: 'soil' });
    const h = harness([d]);
    await h.ingest.handle({ topic: 'gs/soil-n/up', payload: Buffer.from(JSON.stringify({ ts: NOW, moisture: 20, battery: -3 })), qos: 1 });
    await h.ingest.handle({ topic: 'gs/soil-n/up', payload: Buffer.from(JSON.stringify({ ts: NOW + 1, moisture: 140, temperature: 20 })), qos: 1 });
    expect(h.lines.map(parseLine)).toEqual([{ fields: { moisture: 20 }, at: NOW }]);
    expect(h.dead.map((x) => [x.reason, x.detail])).toEqual([
      ['out_of_range', 'battery: -3 is outside 0..100 (field battery dropped; the rest of the reading kept)'],
      ['out_of_range', 'moisture: 140 is outside 0..100'],
    ]);
    expect(await h.metrics.registry.metrics()).toContain('gs_reading_fields_refused_total{profile="native",field="battery",reason="out_of_range"} 1');
  });
});

describe('history records', () => {
  it('are stored at their own times, and a retried uplink\'s records are duplicates', async () => {
    const f = FIXTURES.find((x) => x.name === 'milesight-em500-smtc-history')!;
    const d = device({ id: 'em500', kind: 'soil', devEui: devEuiOf(1), profile: 'milesight-em500-smtc' });
    const h = harness([d]);
    const send = (dedup: string) => h.ingest.handle({ topic: `application/${CS_APP}/device/${d.devEui}/event/up`, payload: chirpstackUp(f, d.devEui!, { applicationId: CS_APP, time: new Date(NOW).toISOString(), fCnt: 1, deduplicationId: dedup }), qos: 1 });
    await send('u1');
    await send('u2'); // the same records in another uplink: the store keeps one of each
    expect(h.lines).toHaveLength(2);
    expect(h.dead.map((x) => x.reason)).toEqual(['duplicate', 'duplicate']);
  });
});

describe('codec failures are attributed to the codec', () => {
  const d = device({ id: 'em500', kind: 'soil', devEui: devEuiOf(2), profile: 'milesight-em500-smtc' });
  const f = FIXTURES.find((x) => x.name === 'milesight-em500-smtc')!;
  const upWithoutObject = (dedup: string): Buffer => {
    const body = JSON.parse(chirpstackUp(f, d.devEui!, { applicationId: CS_APP, time: new Date(NOW).toISOString(), fCnt: 7, deduplicationId: dedup }).toString()) as Record<string, unknown>;
    delete body['object'];
    return Buffer.from(JSON.stringify(body));
  };
  const log = (dedup: string): Buffer => Buffer.from(JSON.stringify({
    time: new Date(NOW).toISOString(), deviceInfo: { devEui: d.devEui, deviceProfileName: 'EM500-SMTC' },
    level: 'ERROR', code: 'UPLINK_CODEC', description: 'JS error: TypeError: cannot read property \'length\' of undefined', context: { deduplication_id: dedup },
  }));

  it('counts the log event against the device and dead-letters the up without object as "the codec failed"', async () => {
    const h = harness([d]);
    await h.ingest.handle({ topic: `application/${CS_APP}/device/${d.devEui}/event/log`, payload: log('u9'), qos: 1 });
    await h.ingest.handle({ topic: `application/${CS_APP}/device/${d.devEui}/event/up`, payload: upWithoutObject('u9'), qos: 1 });
    expect(h.lines).toEqual([]);
    expect(h.dead.map((x) => [x.reason, x.deviceId, x.detail])).toEqual([
      ['codec_error', 'em500', "the codec failed: JS error: TypeError: cannot read property 'length' of undefined"],
      ['codec_error', 'em500', "no decoded payload: the codec failed: JS error: TypeError: cannot read property 'length' of undefined"],
    ]);
    expect(await h.metrics.registry.metrics()).toContain('gs_codec_errors_total{format="chirpstack"} 1');
  });

  it('says "no codec, or it failed without a log" when no codec error preceded it', async () => {
    const h = harness([d]);
    await h.ingest.handle({ topic: `application/${CS_APP}/device/${d.devEui}/event/up`, payload: upWithoutObject('u10'), qos: 1 });
    expect(h.dead).toMatchObject([{ reason: 'schema', deviceId: 'em500' }]);
    expect(h.dead[0]!.detail).toMatch(/^no decoded object: the device profile "milesight-em500-smtc" has no codec, or its codec failed without a log event/);
  });

  it('counts a TTS uplink whose formatter failed (its warnings say so) as the codec\'s failure', async () => {
    const dev = device({ id: 'em500-tts', kind: 'soil', devEui: devEuiOf(4), profile: 'milesight-em500-smtc' });
    const h = harness([dev]);
    const body = JSON.parse(ttsUp(f, dev.devEui!, { application: 'greenspace', deviceId: dev.id, receivedAt: new Date(NOW).toISOString(), fCnt: 3 }).toString()) as { uplink_message: Record<string, unknown> };
    delete body.uplink_message['decoded_payload'];
    body.uplink_message['decoded_payload_warnings'] = ['ReferenceError: readUInt16LE is not defined'];
    await h.ingest.handle({ topic: `v3/greenspace@ttn/devices/${dev.id}/up`, payload: Buffer.from(JSON.stringify(body)), qos: 1 });
    expect(h.dead.map((x) => [x.reason, x.deviceId, x.detail])).toEqual([['codec_error', 'em500-tts', 'no decoded payload: the payload formatter failed: ReferenceError: readUInt16LE is not defined']]);
    expect(await h.metrics.registry.metrics()).toContain('gs_codec_errors_total{format="tts"} 1');
  });

  it('ignores log events of other codes', async () => {
    const h = harness([d]);
    const other = Buffer.from(JSON.stringify({ deviceInfo: { devEui: d.devEui }, level: 'INFO', code: 'UPLINK_F_CNT_RESET', description: 'frame-counter reset' }));
    await h.ingest.handle({ topic: `application/${CS_APP}/device/${d.devEui}/event/log`, payload: other, qos: 1 });
    expect(h.dead).toEqual([]);
    expect(h.lines).toEqual([]);
  });
});

describe('an operator adds a model with a YAML file and no code change', () => {
  const YAML = [
    '# A made-up capacitive probe whose decoder reports per-mille moisture and °F.',
    'id: acme-soil-1',
    'vendor: ACME',
    'model: Soil-1',
    'kind: soil',
    'fields:',
    '  moisture: { from: [vwc_permille, vwc], unit: ‰ }',
    '  temperature: { from: [tempF], unit: °F }',
    '  batteryV: { from: [vbat_mv], unit: mV }',
    'battery:',
    '  chemistry: 2×AA alkaline',
    '  curve: [[2.0, 0], [2.4, 20], [2.8, 70], [3.1, 100]]',
  ].join('\n');

  it('reads the new profile and stores the model\'s uplinks in our units', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'profiles-'));
    writeFileSync(join(dir, 'acme-soil-1.yaml'), YAML);
    const d = device({ id: 'acme', kind: 'soil', devEui: devEuiOf(3), profile: 'acme-soil-1' });
    const h = harness([d], dir);
    const decoded = { vwc_permille: 312, tempF: 68, vbat_mv: 2600 };
    await h.ingest.handle({ topic: `application/${CS_APP}/device/${d.devEui}/event/up`, payload: chirpstackUp({ name: 'acme', profile: 'acme-soil-1', fPort: 1, bytesHex: '00', decoded }, d.devEui!, { applicationId: CS_APP, time: new Date(NOW).toISOString(), fCnt: 1, deduplicationId: 'a1' }), qos: 1 });
    expect(h.dead).toEqual([]);
    expect(h.lines.map(parseLine)).toEqual([{ fields: { moisture: 31.2, temperature: 20, battery: 45, battery_v: 2.6, rssi: -97, snr: 4.2 }, at: NOW }]);
  });

  it.each([
    ['a unit that is not the field\'s', YAML.replace('unit: °F', 'unit: mV'), /^\S+acme-soil-1\.yaml:8: fields\.temperature\.unit: mV does not convert to temperature's unit °C$/],
    ['a range wider than the store\'s', YAML.replace('unit: ‰ }', 'unit: ‰, range: [0, 150] }'), /^\S+acme-soil-1\.yaml:7: fields\.moisture\.range: expected a range within 0\.\.100/],
    ['a curve that falls', YAML.replace('[2.8, 70]', '[2.8, 10]'), /^\S+acme-soil-1\.yaml:12: battery\.curve: percent must not fall as voltage rises$/],
    ['an unknown key', `${YAML}\nhistroy: {}`, /^\S+acme-soil-1\.yaml:13: histroy: unknown field$/],
    ['broken YAML', YAML.replace('kind: soil', 'kind: [soil'), /^\S+acme-soil-1\.yaml:\d+: \(document\): /],
  ])('refuses %s with file:line: path: message', (_name, text, problem) => {
    const dir = mkdtempSync(join(tmpdir(), 'profiles-'));
    writeFileSync(join(dir, 'acme-soil-1.yaml'), text);
    const { problems } = loadProfiles(dir);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(problem);
  });

  it('refuses a second profile with a shipped id', () => {
    const dir = mkdtempSync(join(tmpdir(), 'profiles-'));
    writeFileSync(join(dir, 'mine.yaml'), YAML.replace('id: acme-soil-1', 'id: dragino-se01-lb'));
    expect(loadProfiles(dir).problems).toEqual([expect.stringMatching(/mine\.yaml: id: profile dragino-se01-lb is already defined by ingest\/profiles\/dragino-se01-lb\.yaml$/)]);
  });

  it('reads a device naming an unknown profile with the generic names, and says so', () => {
    const unknown: string[] = [];
    const set = createProfileSet([], (id, profile) => unknown.push(`${id}:${profile}`));
    expect(set.forDevice(device({ id: 'x', kind: 'soil', profile: 'nope' })).id).toBe('generic');
    expect(unknown).toEqual(['x:nope']);
  });
});
