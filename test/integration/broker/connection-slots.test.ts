import { createConnection, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connect } from '../../helpers/mqtt.ts';
import { metricValue, tryConnect } from './support.ts';

const PER_IP = 5;

/** A TCP connection that never sends CONNECT; resolves once open, with whether the broker closed it within `ms` (at its close, or false at the deadline). */
function idleSocket(port: number): Promise<{ socket: Socket; closedWithin: (ms: number) => Promise<boolean> }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      const closed = new Promise<true>((r) => socket.once('close', () => r(true)));
      resolve({
        socket,
        closedWithin: (ms) => Promise.race([closed, new Promise<false>((r) => setTimeout(() => r(false), ms))]),
      });
    });
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

describe('connection slots per address', () => {
  let t: TestApp;
  let secret: string;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    t = await startTestApp({ mqttConnectBurstPerIp: PER_IP });
    secret = await t.register({ id: 'soil-slot-1', kind: 'soil', place: { district: 'd1', community: 'c1', zone: 'z1' } });
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await t?.stop();
  });

  it('one address cannot hold every slot with connections that never authenticate; its authenticated sessions do not count', async () => {
    // Authenticated sessions do not count: thousands of devices may share one NAT address.
    const first = await connect(t.app.mqttPort, { clientId: 'soil-slot-1', username: 'soil-slot-1', password: secret });
    const idle = [];
    for (let i = 0; i < PER_IP; i++) idle.push(await idleSocket(t.app.mqttPort));
    sockets.push(...idle.map((s) => s.socket));
    const extra = await idleSocket(t.app.mqttPort);
    sockets.push(extra.socket);
    // Closed for the address, not by the 10 s CONNECT timeout: well before it, and counted as such.
    expect(await extra.closedWithin(5_000)).toBe(true);
    expect(await metricValue(t, 'gs_mqtt_auth_failures_total', { reason: 'too_many_connections_from_ip' })).toBe(1);
    // The five within the limit are still open.
    for (const s of idle) expect(await s.closedWithin(0)).toBe(false);
    // The address's slots come back as its connections close.
    await first.endAsync();
    for (const s of idle) s.socket.destroy();
    // Each idle socket's slot is released when the broker sees its close: try until one is free
    // (a refused attempt is closed without a CONNACK, which tryConnect reports).
    const device = await eventually(async () => {
      const attempt = await tryConnect(t.app.mqttPort, { clientId: 'soil-slot-1', username: 'soil-slot-1', password: secret });
      if (attempt.outcome === 'connected') return attempt.client;
      attempt.client.end(true);
      return undefined;
    }, 5_000, 'a connection slot back');
    await device.endAsync();
  });
});
