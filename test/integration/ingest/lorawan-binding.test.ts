import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, eventually, queryRows, startTestApp, UNLIMITED, type TestApp } from '../../helpers/app.ts';
import { connect, publish } from '../../helpers/mqtt.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- edits of a fixture's JSON tree
const fixture = (file: string): Json => JSON.parse(readFileSync(new URL(`../../fixtures/uplinks/${file}`, import.meta.url), 'utf8')) as Json;

const APP_A = '17c82e96-be03-4f38-aef3-f83d48582d97';
const APP_B = '9a0d1b3c-5e7f-4a2b-8c4d-6e8f0a1b2c3d';
const TTS_APP = 'greenspace-soil@ttn';
const DEVICES = [
  { id: 'soil-a', eui: '24e124126c47000a', bound: APP_A },
  { id: 'soil-b', eui: '24e124126c47000b', bound: APP_B },
  { id: 'soil-free', eui: '24e124126c47000f', bound: undefined },
  { id: 'soil-parks', eui: '24e124126c470010', bound: 'parks@ttn' },
  { id: 'soil-late', eui: '24e124126c470011', bound: undefined }, // bound later, through the API
] as const;
const eui = (id: string): string => DEVICES.find((d) => d.id === id)!.eui;

/** A ChirpStack v4 uplink of `device` with this moisture, as application `app` publishes it. */
function chirpstack(app: string, device: string, moisture: number): [string, string] {
  const up = fixture('chirpstack/em500-smtc.json');
  Object.assign(up, { deduplicationId: randomUUID(), time: new Date(Date.now() - 1_000).toISOString() });
  Object.assign(up.deviceInfo, { applicationId: app, devEui: eui(device), deviceName: device });
  up.object.moisture = moisture;
  return [`application/${app}/device/${eui(device)}/event/up`, JSON.stringify(up)];
}

/** The same through The Things Stack v3. */
function tts(appAtTenant: string, device: string, moisture: number): [string, string] {
  const up = fixture('tts/em500-smtc.json');
  const [app] = appAtTenant.split('@') as [string];
  const at = new Date(Date.now() - 1_000).toISOString();
  Object.assign(up.end_device_ids, { device_id: device, dev_eui: eui(device), application_ids: { application_id: app } });
  Object.assign(up, { received_at: at });
  Object.assign(up.uplink_message, { received_at: at, f_cnt: Math.floor(Math.random() * 1e6), decoded_payload: { ...up.uplink_message.decoded_payload, moisture } });
  return [`v3/${appAtTenant}/devices/${device}/up`, JSON.stringify(up)];
}

describe('a network-server application speaks only for its own devices', () => {
  let t: TestApp;
  const clients = new Map<string, MqttClient>();
  const secrets = new Map<string, string>();
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

  beforeAll(async () => {
    t = await startTestApp({ ...UNLIMITED });
    for (const d of DEVICES) {
      await t.register({
        id: d.id, kind: 'soil', devEui: d.eui, ...(d.bound ? { lorawanApplication: d.bound } : {}),
        place: { district: 'huangpu', community: 'xinhua-lane-12', zone: 'xinhua-z1', plant: 'shrubs' },
      });
    }
    // Two ChirpStack applications, each behind its own service account, as a city with two
    // contractors' network servers (or one server with two applications) would have.
    for (const body of [
      { id: 'ns-a', kind: 'chirpstack', applications: [APP_A] },
      { id: 'ns-b', kind: 'chirpstack', applications: [APP_B] },
      { id: 'ns-tts', kind: 'tts', applications: [TTS_APP] },
    ]) {
      const res = await t.app.api.inject({ method: 'POST', url: '/api/v1/service-accounts', headers: auth, payload: body });
      expect(res.statusCode).toBe(201);
      secrets.set(body.id, (res.json() as { secret: string }).secret);
    }
  });
  afterAll(async () => {
    for (const c of clients.values()) c.end(true);
    await t?.stop();
  });

  const as = async (id: string): Promise<MqttClient> => {
    let client = clients.get(id);
    if (!client) clients.set(id, (client = await connect(t.app.mqttPort, { clientId: id, username: id, password: secrets.get(id) })));
    return client;
  };
  const send = async (who: string, [topic, body]: [string, string]) => publish(await as(who), topic, body, 1);
  const moistures = async (device: string) => (await queryRows(t.influx, `SELECT moisture FROM soil WHERE device = '${device}'`)).map((r) => r.moisture);
  const stored = (device: string, moisture: number) =>
    eventually(async () => ((await moistures(device)).includes(moisture) ? true : undefined), 5_000, `${device}'s reading ${moisture}`);
  const letters = async () => (await t.app.api.inject({ url: '/api/v1/dead-letters?reason=wrong_application', headers: auth }))
    .json() as Array<{ reason: string; detail: string; device: string | null; topic: string }>;
  const rejected = async () => /gs_readings_rejected_total\{reason="wrong_application"\} (\d+)/.exec((await t.app.api.inject({ url: '/metrics' })).body)?.[1];

  it('shows the binding on the device', async () => {
    const res = await t.app.api.inject({ url: '/api/v1/devices/soil-b', headers: auth });
    expect(res.json()).toMatchObject({ id: 'soil-b', devEui: eui('soil-b'), lorawanApplication: APP_B });
    expect((await t.app.api.inject({ url: '/api/v1/devices/soil-free', headers: auth })).json()).not.toHaveProperty('lorawanApplication');
  });

  it('refuses to register a binding on a device without a dev EUI, saying why', async () => {
    const res = await t.app.api.inject({
      method: 'POST', url: '/api/v1/devices', headers: auth,
      payload: { id: 'soil-native', kind: 'soil', lorawanApplication: APP_A, place: { district: 'huangpu', community: 'xinhua-lane-12', zone: 'xinhua-z1' } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error: 'bad_request',
      issues: [{ path: 'lorawanApplication', message: "a LoRaWAN application binding needs the device's devEui: only LoRaWAN devices are published by a network server" }],
    });
    expect((await t.app.api.inject({ url: '/api/v1/devices/soil-native', headers: auth })).statusCode).toBe(404);
  });

  it('refuses application A\'s uplink for B\'s device: counted, dead-lettered, not stored; A\'s own device is stored', async () => {
    await send('ns-a', chirpstack(APP_A, 'soil-b', 11.1));
    await send('ns-a', chirpstack(APP_A, 'soil-a', 22.2));
    await stored('soil-a', 22.2);
    // Both went through the one connection in order: once A's own reading is stored, the
    // refused one has long been decided.
    expect(await moistures('soil-b')).toEqual([]);
    expect((await as('ns-a')).connected).toBe(true);
    const [letter] = await eventually(async () => ((await letters()).length > 0 ? letters() : undefined), 5_000, 'the dead letter');
    expect(letter).toMatchObject({
      reason: 'wrong_application',
      detail: `device soil-b belongs to application ${APP_B}, not ${APP_A}`,
      device: 'soil-b',
      topic: `application/${APP_A}/device/${eui('soil-b')}/event/up`,
    });
    expect(await rejected()).toBe('1');
  });

  it('stores B\'s device\'s uplink from its own application', async () => {
    await send('ns-b', chirpstack(APP_B, 'soil-b', 33.3));
    await stored('soil-b', 33.3);
    expect(await moistures('soil-b')).toEqual([33.3]);
  });

  it('keeps accepting an unbound device from any application its dev EUI reaches (as before bindings)', async () => {
    await send('ns-a', chirpstack(APP_A, 'soil-free', 14.4));
    await send('ns-b', chirpstack(APP_B, 'soil-free', 15.5));
    await stored('soil-free', 14.4);
    await stored('soil-free', 15.5);
  });

  it('holds for The Things Stack: {application}@{tenant} must match', async () => {
    await send('ns-tts', tts(TTS_APP, 'soil-parks', 16.6));
    await send('ns-tts', tts(TTS_APP, 'soil-free', 17.7));
    await stored('soil-free', 17.7);
    expect(await moistures('soil-parks')).toEqual([]);
    const letter = (await letters()).find((l) => l.device === 'soil-parks');
    expect(letter?.detail).toBe(`device soil-parks belongs to application parks@ttn, not ${TTS_APP}`);
    expect(await rejected()).toBe('2');
  });

  it('judges by a binding set through the API from the next uplink, without a restart, and by none once unbound', async () => {
    const bind = (lorawanApplication: string | null) =>
      t.app.api.inject({ method: 'PATCH', url: '/api/v1/devices/soil-late', headers: auth, payload: { lorawanApplication } });
    await send('ns-b', chirpstack(APP_B, 'soil-late', 40.1)); // unbound: B is believed
    await stored('soil-late', 40.1);
    const before = Number((await rejected()) ?? 0);

    const bound = await bind(APP_A);
    expect(bound.statusCode).toBe(200);
    expect(bound.json()).toMatchObject({ id: 'soil-late', lorawanApplication: APP_A });
    await send('ns-b', chirpstack(APP_B, 'soil-late', 41.1));
    await send('ns-a', chirpstack(APP_A, 'soil-late', 42.2));
    await stored('soil-late', 42.2);
    // B's uplink came over another connection: wait for its verdict, not for A's.
    const letter = await eventually(async () => (await letters()).find((l) => l.device === 'soil-late'), 5_000, "B's dead letter");
    expect(letter).toMatchObject({ reason: 'wrong_application', detail: `device soil-late belongs to application ${APP_A}, not ${APP_B}` });
    expect(Number(await rejected())).toBe(before + 1);
    expect(await moistures('soil-late')).toEqual([40.1, 42.2]);
    expect((await as('ns-b')).connected).toBe(true);

    expect((await bind(null)).statusCode).toBe(200);
    await send('ns-b', chirpstack(APP_B, 'soil-late', 43.3));
    await stored('soil-late', 43.3);
    expect(Number(await rejected())).toBe(before + 1);
  });
});
