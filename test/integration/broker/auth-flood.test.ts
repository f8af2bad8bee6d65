import { connect as connectTcp, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp } from '../../helpers/app.ts';
import { metricValue, tryConnect } from './support.ts';

const FRESH = 20;
const FLOOD_PER_S = 40; // 40 % of the default CONNECT rate per address: not rate limited
const HANG_UP_AFTER_MS = 20;
const ATTACKER = '127.0.0.2'; // loopback too, but another address than the devices'

/**
 * The attack from issue 19: unknown-user CONNECTs from one address, each socket closed
 * 20 ms later. Before the fair queue, 0 of 20 freshly registered devices connected in 30 s
 * (every check slot went to abandoned strangers); now they must connect within 2× the time
 * they take without the flood, both measured in this run. Since device secrets are keyed
 * hashes, an unknown name costs one keyed check and never reaches the scrypt queue: the
 * address's failure budget is what stops the attacker (asserted below).
 */
function startFlood(port: number): { stop(): void; sent: () => number } {
  let sent = 0;
  const sockets = new Set<Socket>();
  const timer = setInterval(() => {
    const n = sent++;
    const socket = connectTcp({ host: '127.0.0.1', port, localAddress: ATTACKER });
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.once('connect', () => {
      socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: `ghost-${n}`, keepalive: 30, username: `ghost-${n}`, password: Buffer.from('guess') }));
      setTimeout(() => socket.destroy(), HANG_UP_AFTER_MS);
    });
  }, 1000 / FLOOD_PER_S);
  return {
    stop() {
      clearInterval(timer);
      for (const socket of sockets) socket.destroy();
    },
    sent: () => sent,
  };
}

describe('password checks stay fair under an unknown-user flood from one address', () => {
  let t: TestApp;
  const batches: Record<'before' | 'during' | 'after', Array<{ id: string; secret: string }>> = { before: [], during: [], after: [] };

  beforeAll(async () => {
    t = await startTestApp({}); // the default limits: 2 checks at once, a queue of 256
    for (const [name, batch] of Object.entries(batches)) {
      for (let i = 0; i < FRESH; i++) {
        const id = `fresh-${name}-${i}`;
        batch.push({ id, secret: await t.register({ id, kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } }) });
      }
    }
  }, 120_000);
  afterAll(async () => t?.stop());

  const gauge = async (name: 'credentialChecksRunning' | 'credentialChecksWaiting'): Promise<number> =>
    (await t.app.metrics[name].get()).values[0]?.value ?? 0;

  /** Connect a batch of never-seen devices at once; the time until the last one is in (or throws with how many got in). */
  async function connectBatch(batch: Array<{ id: string; secret: string }>): Promise<number> {
    const started = performance.now();
    const outcomes = await Promise.all(batch.map(({ id, secret }) => tryConnect(t.app.mqttPort, { clientId: id, username: id, password: secret, connectTimeout: 30_000 })));
    const elapsed = performance.now() - started;
    for (const o of outcomes) (o.client as MqttClient).end(true);
    const refused = outcomes.filter((o) => o.outcome !== 'connected').map((o) => o.message ?? o.outcome);
    expect(refused, `${FRESH - refused.length} of ${FRESH} connected`).toEqual([]);
    return elapsed;
  }

  it(`connects ${FRESH} fresh devices within 2× their time without the flood`, async () => {
    const before = await connectBatch(batches.before);
    const flood = startFlood(t.app.mqttPort);
    let during: number;
    try {
      await new Promise((resolve) => setTimeout(resolve, 5_000)); // the attack in full swing: ~200 CONNECTs sent, the queue as they left it
      during = await connectBatch(batches.during);
    } finally {
      flood.stop();
    }
    // Whatever the flood left queued is worked off before the second run without it.
    await eventually(async () => ((await gauge('credentialChecksWaiting')) + (await gauge('credentialChecksRunning')) === 0 ? true : undefined), 60_000, 'the check queue to drain');
    const after = await connectBatch(batches.after);
    // Load on a shared machine drifts during the run: the flood is compared with the mean of a run before and a run after it.
    const without = (before + after) / 2;
    console.info(`auth flood: ${FRESH} fresh devices in ${before.toFixed(0)} / ${after.toFixed(0)} ms without, ${during.toFixed(0)} ms with ${flood.sent()} flood CONNECTs (${(during / without).toFixed(2)}×)`);
    expect(during).toBeLessThanOrEqual(2 * without);
    // The attacker was refused without costing a check per attempt: its budget, not the queue, stopped it.
    expect(await metricValue(t, 'gs_mqtt_auth_failures_total', { reason: 'over_budget' }) + await metricValue(t, 'gs_mqtt_auth_failures_total', { reason: 'abandoned' })).toBeGreaterThan(0);
    expect(await metricValue(t, 'gs_mqtt_auth_failures_total', { reason: 'busy' })).toBe(0);
  }, 120_000);
});
