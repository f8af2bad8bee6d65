import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { seedLegacyDevices, storedHash } from '../../helpers/legacy-devices.ts';
import { metricValue, tryConnect } from './support.ts';

const CAP = 3; // not the default (2): what the broker honours came from the configuration
const DEVICES = 24;
const KEYED = /^hmac-sha256\$v1\$[0-9a-f]{64}$/;

describe('GS_MQTT_AUTH_CONCURRENCY caps the scrypt checks of a reconnect storm (legacy hashes)', () => {
  let t: TestApp;
  let dataDir: string;
  let secrets: Map<string, string>;
  const ids = Array.from({ length: DEVICES }, (_, i) => `storm-${i}`);

  beforeAll(async () => {
    // Devices registered before keyed hashes: their scrypt hashes are what the queue still checks.
    dataDir = mkdtempSync(join(tmpdir(), 'gs-legacy-'));
    secrets = await seedLegacyDevices(dataDir, [...ids, 'legacy-ok']);
    // The storm comes from one address (loopback): its failure budget (auth-queue.ts) is
    // raised above the storm, so every check runs and the cap on concurrency is what is seen.
    t = await startTestApp({ mqttAuthConcurrency: CAP, mqttAuthQueue: 100, mqttAuthFailureBurstPerIp: 100 }, { dataDir });
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const gauge = async (name: 'credentialChecksRunning' | 'credentialChecksWaiting'): Promise<number> =>
    (await t.app.metrics[name].get()).values[0]?.value ?? 0;

  it(`never runs more than ${CAP} checks at once: the rest wait their turn, and every wrong password is still refused as such`, async () => {
    const before = await metricValue(t, 'gs_mqtt_credential_checks_total', { via: 'scrypt' });
    const seen = { running: 0, waiting: 0 };
    let storming = true;
    // Sampled between every two turns of the event loop, where the checks start and end.
    const sampler = (async () => {
      while (storming) {
        seen.running = Math.max(seen.running, await gauge('credentialChecksRunning'));
        seen.waiting = Math.max(seen.waiting, await gauge('credentialChecksWaiting'));
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    // 24 scrypt checks 3 at a time may take seconds on a loaded machine: a client giving up
    // at mqtt.js' 5 s would leave its check abandoned, and the counts below short.
    const outcomes = await Promise.all(ids.map((id) => tryConnect(t.app.mqttPort, { clientId: id, username: id, password: 'not-the-secret', connectTimeout: 60_000 })));
    storming = false;
    await sampler;
    for (const o of outcomes) o.client.end(true);

    expect(outcomes.map((o) => o.message)).toEqual(ids.map(() => expect.stringMatching(/Bad username or password/)));
    expect(await metricValue(t, 'gs_mqtt_credential_checks_total', { via: 'scrypt' })).toBe(before + DEVICES);
    expect(await metricValue(t, 'gs_mqtt_auth_failures_total', { reason: 'busy' })).toBe(0);
    expect(seen.running).toBe(CAP);
    expect(seen.waiting).toBeGreaterThan(0);
    expect(await gauge('credentialChecksRunning')).toBe(0);
    expect(await gauge('credentialChecksWaiting')).toBe(0);
    // A wrong secret upgrades nothing.
    expect(storedHash(dataDir, 'storm-0')).toMatch(/^scrypt\$/);
  });

  it('accepts a legacy scrypt hash once, stores the keyed hash instead, and checks the next login by it', async () => {
    const id = 'legacy-ok';
    const count = async (via: string) => metricValue(t, 'gs_mqtt_credential_checks_total', { via });
    const before = { scrypt: await count('scrypt'), keyed: await count('keyed') };
    const first = await tryConnect(t.app.mqttPort, { clientId: id, username: id, password: secrets.get(id) });
    first.client.end(true);
    expect(first.outcome).toBe('connected');
    expect(storedHash(dataDir, id)).toMatch(KEYED);
    const second = await tryConnect(t.app.mqttPort, { clientId: id, username: id, password: secrets.get(id) });
    second.client.end(true);
    expect(second.outcome).toBe('connected');
    expect({ scrypt: await count('scrypt'), keyed: await count('keyed') }).toEqual({ scrypt: before.scrypt + 1, keyed: before.keyed + 1 });
  });
});

describe('keyed device secrets: a wrong one is refused at once and charged to the address', () => {
  let t: TestApp;
  let secret: string;
  beforeAll(async () => {
    t = await startTestApp({ mqttAuthFailureBurstPerIp: 3, mqttAuthFailureRatePerIpPerS: 0.001 });
    secret = await t.register({ id: 'soil-9', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
  });
  afterAll(async () => t?.stop());

  it('stores a registered device\'s secret keyed; three wrong secrets spend the burst, then even the right one waits', async () => {
    expect(storedHash(t.dataDir, 'soil-9')).toMatch(KEYED);
    for (let i = 0; i < 3; i++) {
      const wrong = await tryConnect(t.app.mqttPort, { clientId: 'soil-9', username: 'soil-9', password: `wrong-${i}` });
      wrong.client.end(true);
      expect(wrong.message).toMatch(/Bad username or password/);
    }
    const right = await tryConnect(t.app.mqttPort, { clientId: 'soil-9', username: 'soil-9', password: secret });
    right.client.end(true);
    expect(right.message).toMatch(/Server unavailable/);
    expect(await metricValue(t, 'gs_mqtt_auth_failures_total', { reason: 'over_budget' })).toBe(1);
    expect(await metricValue(t, 'gs_mqtt_credential_checks_total', { via: 'keyed' })).toBe(3);
    expect(await metricValue(t, 'gs_mqtt_credential_checks_total', { via: 'scrypt' })).toBe(0);
  });
});
