import { describe, expect, it } from 'vitest';
import { canPublish, canSubscribe } from '../../../broker/acl.ts';
import type { BrokerIdentity } from '../../../broker/identity.ts';

const device: BrokerIdentity = { role: 'device', deviceId: 'soil-1' };
const chirpstack: BrokerIdentity = { role: 'service', name: 'cs', kind: 'chirpstack', applications: ['app-a'] };
const tts: BrokerIdentity = { role: 'service', name: 'tts', kind: 'tts', applications: ['green@ttn'] };
const admin: BrokerIdentity = { role: 'admin', name: 'ops' };

describe('ACL', () => {
  it.each([
    [device, 'gs/soil-1/up', true],
    [device, 'gs/soil-1/status', true],
    [device, 'gs/soil-1/ack', true],
    [device, 'gs/soil-1/down', false],
    [device, 'gs/soil-2/up', false],
    [device, 'gs/soil-1/up/extra', false],
    [device, 'application/app-a/device/0011223344556677/event/up', false],
    [device, '$SYS/x', false],
    [chirpstack, 'application/app-a/device/0011223344556677/event/up', true],
    [chirpstack, 'application/app-a/device/0011223344556677/event/status', true],
    [chirpstack, 'application/app-b/device/0011223344556677/event/up', false],
    [chirpstack, 'application/app-ab/device/0011223344556677/event/up', false],
    [chirpstack, 'gs/soil-1/up', false],
    [chirpstack, 'v3/green@ttn/devices/d/up', false],
    [tts, 'v3/green@ttn/devices/d/up', true],
    [tts, 'v3/green@other/devices/d/up', false],
    [tts, 'v3/green@ttnx/devices/d/up', false],
    [admin, 'gs/soil-2/down', true],
    // The nodes' internal relay (cluster/reading-relay.ts): nobody's, admins included.
    [admin, '$gs/readings/c1', false],
    [device, '$gs/readings/c1', false],
    [chirpstack, '$gs/readings/c1', false],
  ] as const)('%j publishing %s: %s', (identity, topic, allowed) => {
    expect(canPublish(identity, topic)).toBe(allowed);
  });

  it.each([
    [device, 'gs/soil-1/down', true],
    [device, 'gs/soil-2/down', false],
    [device, 'gs/+/down', false],
    [device, 'gs/soil-1/#', false],
    [device, '#', false],
    [device, '$SYS/#', false],
    [chirpstack, 'application/app-a/device/+/command/down', true],
    [chirpstack, 'application/app-a/#', true],
    [chirpstack, 'application/+/#', false],
    [chirpstack, 'application/#', false],
    [chirpstack, '#', false],
    [chirpstack, '$SYS/#', false],
    [tts, 'v3/green@ttn/devices/+/down/push', true],
    [tts, 'v3/+/devices/+/up', false],
    [admin, '#', true],
    [admin, '$SYS/#', true],
    [admin, '$gs/readings/+', false],
    [admin, '$gs/#', false],
    [device, '$gs/readings/c1', false],
  ] as const)('%j subscribing %s: %s', (identity, filter, allowed) => {
    expect(canSubscribe(identity, filter)).toBe(allowed);
  });
});
