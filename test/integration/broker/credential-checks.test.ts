import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { metricValue, tryConnect } from './support.ts';

const CAP = 3; // not the default (2): what the broker honours came from the configuration
const DEVICES = 24;

describe('GS_MQTT_AUTH_CONCURRENCY caps the scrypt checks of a reconnect storm', () => {
  let t: TestApp;
  const ids = Array.from({ length: DEVICES }, (_, i) => `storm-${i}`);

  beforeAll(async () => {
    // The storm comes from one address (loopback): its failure budget (auth-queue.ts) is
    // raised above the storm, so every check runs and the cap on concurrency is what is seen.
    t = await startTestApp({ mqttAuthConcurrency: CAP, mqttAuthQueue: 100, mqttAuthFailureBurstPerIp: 100 });
    for (const id of ids) await t.register({ id, kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
  });
  afterAll(async () => t?.stop());

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
    const outcomes = await Promise.all(ids.map((id) => tryConnect(t.app.mqttPort, { clientId: id, username: id, password: 'not-the-secret' })));
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
  });
});
