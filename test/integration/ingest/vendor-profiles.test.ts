import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, eventually, queryRows, startTestApp, UNLIMITED, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';
import { chirpstackUp, devEuiOf, EXPECTED, loadVendorFixtures, ttsUp, type VendorFixture } from '../../fixtures/vendor-uplinks/cases.ts';

const CS_APP = '5d0c6a1e-7f2b-4c3d-9e8f-0a1b2c3d4e5f';
const TTS_APP = 'greenspace-vendors@ttn';
const FIXTURES = loadVendorFixtures();
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

/**
 * Every vendor-decoder fixture, published over real MQTT by a ChirpStack and a The Things
 * Stack service account, read with its device's profile, and asserted in the real influxd
 * field by field. One device per fixture and format, so each point is its own series.
 */
describe('vendor decoders\' output through both network servers, stored field by field', () => {
  let t: TestApp;
  const clients: MqttClient[] = [];
  const secrets: Record<string, string> = {};
  const deviceOf = (f: VendorFixture, format: 'cs' | 'tts'): { id: string; devEui: string } => {
    const i = FIXTURES.indexOf(f) * 2 + (format === 'cs' ? 0 : 1);
    return { id: `${format}-${f.name}`, devEui: devEuiOf(i) };
  };

  beforeAll(async () => {
    // The history fixture's records are from 2026-12-07; allow them whatever day the test runs.
    t = await startTestApp({ maxPastAgeS: 3650 * 86_400, ...UNLIMITED });
    for (const f of FIXTURES) {
      const kind = EXPECTED[f.name]!.kind;
      const place = kind === 'tilt'
        ? { district: 'huangpu', community: 'xinhua-lane-12', facility: 'pav-1', facilityType: 'pavilion' as const }
        : { district: 'huangpu', community: 'xinhua-lane-12', zone: 'z-vendors', plant: 'lawn' as const };
      for (const format of ['cs', 'tts'] as const) {
        await t.register({ ...deviceOf(f, format), kind, profile: f.profile, place });
      }
    }
    for (const body of [{ id: 'chirpstack-ns', kind: 'chirpstack', applications: [CS_APP] }, { id: 'tts-ns', kind: 'tts', applications: [TTS_APP] }]) {
      const res = await t.app.api.inject({ method: 'POST', url: '/api/v1/service-accounts', headers: auth, payload: body });
      expect(res.statusCode).toBe(201);
      secrets[body.id] = (res.json() as { secret: string }).secret;
    }
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await t?.stop();
  });

  it('stores every fixture\'s fields in our units, through ChirpStack v4 and The Things Stack v3', async () => {
    const cs = await connect(t.app.mqttPort, { clientId: 'chirpstack-ns', username: 'chirpstack-ns', password: secrets['chirpstack-ns'] });
    const tts = await connect(t.app.mqttPort, { clientId: 'tts-ns', username: 'tts-ns', password: secrets['tts-ns'] });
    clients.push(cs, tts);
    const sentAt = Date.now() - 5_000;
    const time = new Date(sentAt).toISOString();
    for (const [n, f] of FIXTURES.entries()) {
      const a = deviceOf(f, 'cs');
      await publish(cs, `application/${CS_APP}/device/${a.devEui}/event/up`, chirpstackUp(f, a.devEui, { applicationId: CS_APP, time, fCnt: 100 + n, deduplicationId: `it-${f.name}` }), 1);
      const b = deviceOf(f, 'tts');
      await publish(tts, `v3/${TTS_APP}/devices/${b.id}/up`, ttsUp(f, b.devEui, { application: TTS_APP.split('@')[0]!, deviceId: b.id, receivedAt: time, fCnt: 100 + n }), 1);
    }
    for (const f of FIXTURES) {
      const expected = EXPECTED[f.name]!;
      for (const format of ['cs', 'tts'] as const) {
        const { id } = deviceOf(f, format);
        const measurement = expected.kind;
        if ('refused' in expected) {
          const letters = await eventually(async () => {
            const list = (await t.app.api.inject({ url: `/api/v1/dead-letters?device=${id}`, headers: auth })).json() as Array<{ reason: string; detail: string }>;
            return list.length > 0 ? list : undefined;
          }, 10_000, `${id}'s dead letter`);
          expect(letters, id).toHaveLength(1);
          expect(letters[0]!.reason, id).toBe(expected.refused);
          expect(letters[0]!.detail, id).toMatch(expected.detail);
          expect(await queryRows(t.influx, `SELECT * FROM ${measurement} WHERE device = '${id}'`), id).toEqual([]);
          continue;
        }
        const radio = format === 'cs' ? { rssi: -97, snr: 4.2 } : { rssi: -101, snr: 6.5 };
        const wanted = expected.points.map((p) => ({ time: p.at ?? sentAt, ...p.fields, ...(p.at === undefined ? radio : {}) }));
        // InfluxDB 1.x keeps each field as its own series: wait until every field of every point is there.
        const rows = await eventually(async () => {
          const got = await queryRows(t.influx, `SELECT * FROM ${measurement} WHERE device = '${id}'`);
          const complete = got.length === wanted.length && got.every((row, k) => Object.keys(wanted[k]!).every((key) => row[key] !== null && row[key] !== undefined));
          return complete ? got : undefined;
        }, 10_000, `${id}'s points`);
        for (const [k, row] of rows.entries()) {
          const fields = Object.fromEntries(Object.entries(row).filter(([key, v]) => v !== null && !['district', 'community', 'zone', 'plant', 'facility', 'facility_type', 'device'].includes(key)));
          expect(fields, `${id} point ${k}`).toEqual(wanted[k]);
        }
        const letters = (await t.app.api.inject({ url: `/api/v1/dead-letters?device=${id}`, headers: auth })).json() as Array<{ detail: string }>;
        expect(letters.map((l) => l.detail), id).toHaveLength(expected.fieldsRefused?.length ?? 0);
        letters.forEach((l, k) => expect(l.detail).toMatch(expected.fieldsRefused![k]!));
      }
    }
    const metrics = (await t.app.api.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('gs_reading_fields_refused_total{profile="dragino-se01-lb",field="ec",reason="out_of_range"} 2');
  }, 120_000);

  it('shows a ChirpStack codec error with the device\'s dead letters, and the up without object as the codec\'s failure', async () => {
    const cs = clients[0]!;
    const f = FIXTURES.find((x) => x.name === 'milesight-em500-smtc')!;
    const { id, devEui } = deviceOf(f, 'cs');
    const log = { time: new Date().toISOString(), deviceInfo: { devEui, deviceProfileName: 'EM500-SMTC' }, level: 'ERROR', code: 'UPLINK_CODEC', description: 'JS error: Error: unexpected channel 0x21', context: { deduplication_id: 'it-codec' } };
    await publish(cs, `application/${CS_APP}/device/${devEui}/event/log`, JSON.stringify(log), 1);
    const up = JSON.parse(chirpstackUp(f, devEui, { applicationId: CS_APP, time: new Date().toISOString(), fCnt: 999, deduplicationId: 'it-codec' }).toString()) as Record<string, unknown>;
    delete up['object'];
    await publish(cs, `application/${CS_APP}/device/${devEui}/event/up`, JSON.stringify(up), 1);
    const letters = await eventually(async () => {
      const list = (await t.app.api.inject({ url: `/api/v1/dead-letters?device=${id}&reason=codec_error`, headers: auth })).json() as Array<{ detail: string; topic: string }>;
      return list.length === 2 ? list : undefined;
    }, 10_000, 'both codec letters');
    expect(letters.map((l) => [l.topic.split('/').at(-1), l.detail])).toEqual([
      ['up', 'no decoded payload: the codec failed: JS error: Error: unexpected channel 0x21'],
      ['log', 'the codec failed: JS error: Error: unexpected channel 0x21'],
    ]);
    expect((await t.app.api.inject({ url: '/metrics' })).body).toContain('gs_codec_errors_total{format="chirpstack"} 1');
  });

  it('lists the profiles in force over the API, every role may read them', async () => {
    const list = (await t.app.api.inject({ url: '/api/v1/device-profiles', headers: auth })).json() as Array<{ id: string; origin: string }>;
    expect(list.filter((p) => p.origin === 'shipped').map((p) => p.id)).toEqual(expect.arrayContaining(['sensecap-s2105', 'decentlab-dl-trs12', 'dragino-ts01-lb', 'milesight-em500-smtc']));
    const one = await t.app.api.inject({ url: '/api/v1/device-profiles/dragino-se01-lb', headers: auth });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id: 'dragino-se01-lb', vendor: 'Dragino', kind: 'soil', fields: { ec: { from: ['conduct_SOIL'], unit: 'uS/cm', range: [0, 20] } }, battery: { chemistry: expect.stringContaining('Li-SOCl2') } });
    expect((await t.app.api.inject({ url: '/api/v1/device-profiles/nope', headers: auth })).statusCode).toBe(404);
    expect((await t.app.api.inject({ url: '/api/v1/device-profiles' })).statusCode).toBe(401);
  });
});
