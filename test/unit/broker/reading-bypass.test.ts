import { describe, expect, it } from 'vitest';
import { createReadingBypassEmitter, filterCouldMatchReadings } from '../../../broker/reading-bypass.ts';
import { isReadingTopic } from '../../../ingest/pipeline.ts';

describe('which subscriptions could receive a reading', () => {
  it.each([
    '#', '+/#', 'gs/#', 'gs/+/up', '+/+/up', 'gs/soil-1/up', '+/soil-1/+', 'gs/+/+',
    'application/#', 'application/+/device/+/event/up', 'application/app1/device/+/event/+',
    'v3/#', 'v3/+/devices/+/up', 'v3/green@ttn/devices/+/+',
  ])('%s: yes', (filter) => expect(filterCouldMatchReadings(filter)).toBe(true));

  it.each([
    '$SYS/#', '$SYS/+/new/clients', 'gs/+/status', 'gs/+/ack', 'gs/soil-1/down', 'gs/+/up/more', 'gs/+',
    'application/+/device/+/event/join', 'application/+/device/+/command/down', 'v3/+/devices/+/down/push', 'other/+/up',
  ])('%s: no', (filter) => expect(filterCouldMatchReadings(filter)).toBe(false));
});

describe('the bus with the reading shortcut', () => {
  const reading = { topic: 'gs/soil-1/up', payload: Buffer.from('{}') };
  const emit = (bus: ReturnType<typeof createReadingBypassEmitter>, packet: { topic: string }) => new Promise<void>((resolve) => bus.emit(packet, () => resolve()));

  it('delivers readings to a subscriber that could match them, and only while it is subscribed', async () => {
    const bus = createReadingBypassEmitter(isReadingTopic);
    const got: string[] = [];
    const notify = (packet: unknown, done: () => void) => { got.push((packet as { topic: string }).topic); done(); };
    await emit(bus, reading);
    expect(got).toEqual([]);

    bus.on('gs/+/up', notify);
    bus.on('gs/+/status', notify);
    expect(bus.readingSubscribers()).toBe(1);
    await emit(bus, reading);
    await emit(bus, { topic: 'gs/soil-1/status' });
    expect(got).toEqual(['gs/soil-1/up', 'gs/soil-1/status']);

    await new Promise<void>((resolve) => bus.removeListener('gs/+/up', notify, () => resolve()));
    expect(bus.readingSubscribers()).toBe(0);
    await emit(bus, reading);
    await emit(bus, { topic: 'gs/soil-1/status' }); // other topics still go through the bus
    expect(got).toEqual(['gs/soil-1/up', 'gs/soil-1/status', 'gs/soil-1/status']);
    await new Promise<void>((resolve) => bus.close(resolve));
  });

  it('counts registrations as mqemitter keeps them, and removing one it never had changes nothing', async () => {
    const bus = createReadingBypassEmitter(isReadingTopic);
    const got: string[] = [];
    const a = (_p: unknown, done: () => void) => { got.push('a'); done(); };
    const b = (_p: unknown, done: () => void) => done();
    bus.on('#', a);
    bus.on('#', a); // the same function twice: mqemitter keeps both
    bus.on('#', b);
    bus.on('gs/#', a);
    expect(bus.readingSubscribers()).toBe(4);
    bus.removeListener('gs/+/up', a);
    bus.removeListener('#', a);
    await new Promise<void>((resolve) => bus.removeListener('gs/#', a, () => resolve()));
    bus.removeListener('#', b);
    expect(bus.readingSubscribers()).toBe(1); // a is still on '#' once: readings must reach it
    await emit(bus, reading);
    expect(got).toEqual(['a']);
    await new Promise<void>((resolve) => bus.close(resolve));
  });
});
