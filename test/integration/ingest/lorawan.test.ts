import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, eventually, queryRows, startTestApp, UNLIMITED, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';

const fixture = (file: string): string => readFileSync(new URL(`../../fixtures/uplinks/${file}`, import.meta.url), 'utf8');
const SOIL_APP = '17c82e96-be03-4f38-aef3-f83d48582d97';
const EUI = '24e124126c470001';

describe('LoRaWAN network servers over MQTT, through their service accounts', () => {
  let t: TestApp;
  const clients: MqttClient[] = [];
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    // The fixtures are real uplinks from May 2026: widen the accepted past window.
    t = await startTestApp({ maxPastAgeS: 3650 * 86_400, ...UNLIMITED });
    secrets.device = await t.register({ id: 'soil-hp-001', kind: 'soil', devEui: EUI, place: { district: 'huangpu', community: 'xinhua-lane-12', zone: 'xinhua-z1', plant: 'shrubs' } });
    for (const body of [{ id: 'chirpstack-ns', kind: 'chirpstack', applications: [SOIL_APP] }, { id: 'tts-ns', kind: 'tts', applications: ['greenspace-soil@ttn'] }]) {
      const res = await t.app.api.inject({ method: 'POST', url: '/api/v1/service-accounts', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: body });
      expect(res.statusCode).toBe(201);
      secrets[body.id] = (res.json() as { secret: string }).secret;
    }
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await t?.stop();
  });

  const as = async (id: string): Promise<MqttClient> => {
    const client = await connect(t.app.mqttPort, { clientId: id, username: id, password: secrets[id === 'soil-hp-001' ? 'device' : id] });
    clients.push(client);
    return client;
  };
  // InfluxDB 1.x keeps each field of a point as its own series: a query racing the write can
  // see some fields of the point and not yet the others. Wait for the whole point.
  const storedRow = () => eventually(async () => {
    const row = (await queryRows(t.influx, `SELECT * FROM soil WHERE device = 'soil-hp-001'`))[0];
    return row && ['moisture', 'temperature', 'ec', 'battery'].every((f) => row[f] !== null && row[f] !== undefined) ? row : undefined;
  }, 5_000, 'the whole point');

  it('stores the same reading sent natively, as ChirpStack v4 and as TTS v3 as the identical point', async () => {
    const rows: Record<string, Record<string, unknown>> = {};
    const sends: Array<[string, string, string]> = [
      ['soil-hp-001', 'gs/soil-hp-001/up', 'native/soil-hp-001.json'],
      ['chirpstack-ns', `application/${SOIL_APP}/device/${EUI}/event/up`, 'chirpstack/em500-smtc.json'],
      ['tts-ns', `v3/greenspace-soil@ttn/devices/eui-${EUI}/up`, 'tts/em500-smtc.json'],
    ];
    for (const [who, topic, file] of sends) {
      await publish(await as(who), topic, fixture(file), 1);
      rows[who] = await storedRow();
      await t.influx.query('DELETE FROM soil'); // the next format must write it afresh
    }
    expect(rows['soil-hp-001']).toMatchObject({ district: 'huangpu', community: 'xinhua-lane-12', zone: 'xinhua-z1', plant: 'shrubs', moisture: 23.5, temperature: 22.6, ec: 1.25, battery: 92 });
    expect(rows['chirpstack-ns']).toStrictEqual(rows['soil-hp-001']);
    expect(rows['tts-ns']).toStrictEqual(rows['soil-hp-001']);
  });

  it('refuses an uplink of an unknown dev EUI: counted and dead-lettered, the connection kept', async () => {
    const stranger = 'a84041ffffffffff';
    const body = fixture('chirpstack/em500-smtc.json').replaceAll(EUI, stranger).replace(/"deduplicationId": *"[^"]+"/, '"deduplicationId":"00000000-0000-4000-8000-000000000001"');
    const client = await as('chirpstack-ns');
    await publish(client, `application/${SOIL_APP}/device/${stranger}/event/up`, body, 1);
    expect(client.connected).toBe(true);
    const letters = await eventually(async () => {
      const res = await t.app.api.inject({ url: '/api/v1/dead-letters?reason=unknown_device', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const list = res.json() as Array<{ detail: string; topic: string }>;
      return list.length > 0 ? list : undefined;
    });
    expect(letters[0]).toMatchObject({ detail: `dev EUI ${stranger} is not registered`, topic: `application/${SOIL_APP}/device/${stranger}/event/up` });
    expect((await t.app.api.inject({ url: '/metrics' })).body).toContain('gs_readings_rejected_total{reason="unknown_device"} 1');
  });
});
