import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ADMIN_TOKEN, eventually, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect } from '../../helpers/mqtt.ts';
import { api, closed, metricValue } from '../broker/support.ts';

/**
 * A durable log on a disk that refuses every write: its active segment is /dev/full (each
 * write fails with ENOSPC), so nothing the ingest appends is ever stored.
 */
function dataDirOnFullDisk(): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'gs-full-'));
  mkdirSync(join(dataDir, 'durable-log'));
  symlinkSync('/dev/full', join(dataDir, 'durable-log', `000000000001-${String(Date.now()).padStart(13, '0')}.seg`));
  return dataDir;
}

describe('a disk that fails every write', () => {
  let t: TestApp;
  let dataDir: string;
  let ops: MqttClient;
  let opsSecret: string;

  beforeAll(async () => {
    dataDir = dataDirOnFullDisk();
    t = await startTestApp({}, { dataDir });
    await t.register({ id: 'soil-full', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
    await t.register({ id: 'gw-full', kind: 'gateway', place: { district: 'd1', community: 'c1' } });
    const res = await api(t, ADMIN_TOKEN).post('/api/v1/service-accounts', { id: 'ops-full', kind: 'admin' });
    expect(res.statusCode).toBe(201);
    opsSecret = (res.json() as { secret: string }).secret;
    ops = await connect(t.app.mqttPort, { clientId: 'ops-full', username: 'ops-full', password: opsSecret });
  });
  afterAll(async () => {
    ops?.end(true);
    await t?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('never acknowledges a retransmission whose original was not stored, even with a pointless reading between them', async () => {
    const reading = JSON.stringify({ ts: Date.now() - 1_000, seq: 41, moisture: 22 });
    const outcomes: Record<string, string> = {};
    const note = (name: string) => (error?: Error) => { outcomes[name] ??= error ? 'error' : 'acked'; };
    const dropped = closed(ops);
    // One write from the client: the broker hands the three publishes to the ingest in one turn.
    ops.publish('gs/soil-full/up', reading, { qos: 1 }, note('original'));
    ops.publish('gs/gw-full/up', JSON.stringify({ rssi: -60 }), { qos: 1 }, note('gateway')); // accepted, nothing to store
    ops.publish('gs/soil-full/up', reading, { qos: 1 }, note('retransmission'));
    // The failed append of the original ends the connection: by then every PUBACK the broker
    // was going to send for this turn has been sent.
    await dropped;
    await eventually(() => outcomes.gateway, 5_000, 'the gateway reading acked');
    expect(outcomes.gateway).toBe('acked');
    // The original failed (ENOSPC): a PUBACK for its copy would make the sender drop a reading nobody stored.
    expect(outcomes.retransmission).not.toBe('acked');
  });

  it('answers /readyz not ready, with the reason, while readings are refused for lack of disk', async () => {
    const client = await connect(t.app.mqttPort, { clientId: 'ops-full/ready', username: 'ops-full', password: opsSecret });
    const dropped = closed(client);
    client.publish('gs/soil-full/up', JSON.stringify({ ts: Date.now() - 1_000, seq: 42, moisture: 23 }), { qos: 1 });
    await dropped; // refused: no PUBACK comes, the failed append ends the connection
    const res = await eventually(async () => {
      const r = await t.app.api.inject({ url: '/readyz' });
      return r.statusCode === 503 ? r : undefined;
    }, 5_000, '/readyz to answer 503');
    expect(res.json()).toEqual({
      ready: false,
      checks: { influxdb: true, broker: true, durableLog: false },
      reasons: { durableLog: 'no room on the data volume for the durable log (ENOSPC): QoS 1 readings are refused' },
    });
  });

  it('still counts the messages it receives while every append fails', async () => {
    const before = await metricValue(t, 'gs_mqtt_messages_received_total', { format: 'native' });
    const client = await connect(t.app.mqttPort, { clientId: 'ops-full/counts', username: 'ops-full', password: opsSecret });
    for (let seq = 100; seq < 105; seq++) client.publish('gs/soil-full/up', JSON.stringify({ ts: Date.now() - 1_000, seq, moisture: 22 }), { qos: 0 });
    const counted = await eventually(async () => {
      const n = await metricValue(t, 'gs_mqtt_messages_received_total', { format: 'native' });
      return n >= before + 5 ? n : undefined;
    }, 5_000, 'five messages counted');
    client.end(true);
    expect(counted).toBe(before + 5);
  });
});
