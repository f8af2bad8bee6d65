import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { eventually, queryRows, startTestApp, type TestApp } from '../../helpers/app.ts';
import { publish } from '../../helpers/mqtt.ts';
import { ConfigError, loadConfig } from '../../../config/config.ts';

function connectUrl(url: string, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
    client.once('connect', () => resolve(client));
    client.once('error', (error) => { client.end(true); reject(error); });
  });
}

describe('MQTT over TLS, WebSocket and TLS WebSocket', () => {
  let t: TestApp;
  let certDir: string;
  let ca: Buffer;
  let secret: string;

  beforeAll(async () => {
    // A self-signed certificate for 127.0.0.1, made here (openssl is a test prerequisite, like influxd).
    execFileSync('openssl', ['version']);
    certDir = mkdtempSync(join(tmpdir(), 'gs-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem')], { stdio: 'ignore' });
    ca = readFileSync(join(certDir, 'cert.pem'));
    t = await startTestApp({ mqttTlsPort: 0, mqttWsPort: 0, mqttWssPort: 0, mqttTlsCert: join(certDir, 'cert.pem'), mqttTlsKey: join(certDir, 'key.pem') });
    secret = await t.register({ id: 'soil-t', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
  });
  afterAll(async () => {
    await t?.stop();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  it('listens on every configured transport', () => {
    expect(t.app.mqttPorts).toEqual({ port: expect.any(Number), tlsPort: expect.any(Number), wsPort: expect.any(Number), wssPort: expect.any(Number) });
  });

  it.each([
    ['mqtts', () => `mqtts://127.0.0.1:${t.app.mqttPorts.tlsPort}`, 1],
    ['ws', () => `ws://127.0.0.1:${t.app.mqttPorts.wsPort}`, 2],
    ['wss', () => `wss://127.0.0.1:${t.app.mqttPorts.wssPort}`, 3],
  ])('stores a reading sent over %s, with the same authentication', async (_name, url, seq) => {
    await expect(connectUrl(url(), { clientId: 'soil-t', username: 'soil-t', password: 'wrong', ca })).rejects.toThrow(/Bad username or password/);
    const client = await connectUrl(url(), { clientId: 'soil-t', username: 'soil-t', password: secret, ca });
    await publish(client, 'gs/soil-t/up', JSON.stringify({ seq, moisture: 10 + seq }), 1);
    client.end(true);
    await eventually(async () => ((await queryRows(t.influx, `SELECT moisture FROM soil WHERE device = 'soil-t' AND moisture = ${10 + seq}`)).length === 1 ? true : undefined));
  });

  it('refuses a TLS client that does not trust the certificate', async () => {
    await expect(connectUrl(`mqtts://127.0.0.1:${t.app.mqttPorts.tlsPort}`, { clientId: 'soil-t', username: 'soil-t', password: secret })).rejects.toThrow(/self-signed|certificate/i);
  });

  it('is off by default and needs a certificate when turned on', () => {
    const defaults = loadConfig({});
    expect([defaults.mqttTlsPort, defaults.mqttWsPort, defaults.mqttWssPort]).toEqual([undefined, undefined, undefined]);
    expect(() => loadConfig({ GS_MQTT_TLS_PORT: '8883', GS_MQTT_TLS_KEY: '/etc/key.pem' })).toThrow(ConfigError);
    try {
      loadConfig({ GS_MQTT_WSS_PORT: '8884' });
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'GS_MQTT_TLS_CERT: required when GS_MQTT_WSS_PORT is set (a PEM certificate file)',
        'GS_MQTT_TLS_KEY: required when GS_MQTT_WSS_PORT is set (a PEM private key file)',
      ]);
    }
    expect.assertions(3);
  });
});
