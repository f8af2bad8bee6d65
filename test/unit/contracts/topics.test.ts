import { describe, expect, it } from 'vitest';
import { deviceTopic, parseTopic } from '../../../contracts/topics.ts';
import { canPublish, canSubscribe } from '../../../broker/acl.ts';

describe('topics', () => {
  it.each([
    ['gs/soil-001/up', { format: 'native', deviceId: 'soil-001', channel: 'up' }],
    ['gs/valve.7/ack', { format: 'native', deviceId: 'valve.7', channel: 'ack' }],
    ['application/42/device/A84041000181C2D3/event/up', { format: 'chirpstack', applicationId: '42', devEui: 'a84041000181c2d3', event: 'up' }],
    ['v3/greenspace@ttn/devices/eui-a840/up', { format: 'tts', application: 'greenspace', tenant: 'ttn', deviceId: 'eui-a840', event: 'up' }],
  ])('parses %s', (topic, expected) => {
    expect(parseTopic(topic)).toEqual(expected);
  });

  it.each([
    'gs/soil-001/readings', 'gs//up', 'gs/a/b/up', 'gs/soil 1/up', 'gs/+/up', 'gs/#', 'other/x/up', '',
    'application/42/device/nothex/event/up', 'v3/noat/devices/x/up',
  ])('rejects %j', (topic) => {
    expect(parseTopic(topic)).toBeUndefined();
  });

  it('builds what it parses', () => {
    for (const channel of ['up', 'status', 'down', 'ack'] as const) {
      expect(parseTopic(deviceTopic('soil-9', channel))).toEqual({ format: 'native', deviceId: 'soil-9', channel });
    }
  });
});

describe('ACL', () => {
  const device = { role: 'device', deviceId: 'soil-001' } as const;
  it.each([
    ['gs/soil-001/up', true], ['gs/soil-001/status', true], ['gs/soil-001/ack', true],
    ['gs/soil-001/down', false], ['gs/soil-002/up', false], ['application/1/device/a84041000181c2d3/event/up', false], ['$SYS/x', false],
  ])('device publish %s → %s', (topic, allowed) => {
    expect(canPublish(device, topic)).toBe(allowed);
  });
  it.each([
    ['gs/soil-001/down', true], ['gs/soil-001/#', false], ['#', false], ['$SYS/#', false], ['gs/+/down', false], ['gs/soil-002/down', false],
  ])('device subscribe %s → %s', (filter, allowed) => {
    expect(canSubscribe(device, filter)).toBe(allowed);
  });
});
