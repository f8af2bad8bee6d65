import { describe, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { createPacketScanner } from '../../../broker/packet-limit.ts';

const publish = (payloadBytes: number): Buffer =>
  mqttPacket.generate({ cmd: 'publish', topic: 'gs/d/up', payload: Buffer.alloc(payloadBytes, 0x61), qos: 1, messageId: 7, retain: false, dup: false });
const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'd', keepalive: 30, username: 'd', password: Buffer.from('s') });
const ping = mqttPacket.generate({ cmd: 'pingreq' });

/** Feed `bytes` in chunks of `size`, returning the first verdict that is not ok. */
function feedInChunks(max: number, bytes: Buffer, size: number) {
  const scanner = createPacketScanner(max);
  for (let i = 0; i < bytes.length; i += size) {
    const verdict = scanner.feed(bytes.subarray(i, i + size));
    if (verdict !== 'ok') return verdict;
  }
  return 'ok';
}

describe('MQTT packet scanner', () => {
  const stream = Buffer.concat([connect, publish(10), ping, publish(127), publish(128), publish(16_383), publish(16_384), ping]);
  const largest = publish(16_384).length;

  it.each([1, 2, 3, 7, 64, 1500, stream.length])('passes a stream of packets within the limit fed in chunks of %i bytes', (size) => {
    expect(feedInChunks(largest, stream, size)).toBe('ok');
  });

  it.each([1, 5, 4096])('refuses a packet one byte over the limit (chunks of %i)', (size) => {
    expect(feedInChunks(largest - 1, Buffer.concat([connect, ping, publish(16_384)]), size)).toBe('too_large');
  });

  it('refuses from the header alone, before the body arrives', () => {
    const scanner = createPacketScanner(largest - 1);
    expect(scanner.feed(Buffer.concat([connect, ping]))).toBe('ok');
    expect(scanner.feed(publish(16_384).subarray(0, 4))).toBe('too_large'); // type + 3 length bytes
  });

  it('refuses a 64 MiB announcement from its header alone', () => {
    const header = Buffer.from([0x30, 0xff, 0xff, 0xff, 0x1f]);
    expect(createPacketScanner(512 * 1024).feed(header)).toBe('too_large');
  });

  it('holds the first packet (CONNECT, before any authentication) to a much smaller limit', () => {
    const bigConnect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'd', keepalive: 30, username: 'd', password: Buffer.alloc(100_000, 0x61) });
    // 512 KiB buffered per unauthenticated connection, thousands of them, is how memory runs out.
    expect(createPacketScanner(512 * 1024).feed(bigConnect.subarray(0, 4))).toBe('too_large');
    const scanner = createPacketScanner(512 * 1024);
    expect(scanner.feed(Buffer.concat([connect, publish(100_000)]))).toBe('ok');
  });

  it('refuses a remaining length longer than four bytes as malformed', () => {
    expect(createPacketScanner(1e9).feed(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]))).toBe('malformed');
  });

  it('stays refused once refused', () => {
    const scanner = createPacketScanner(10);
    expect(scanner.feed(publish(100))).toBe('too_large');
    expect(scanner.feed(ping)).toBe('too_large');
  });
});
