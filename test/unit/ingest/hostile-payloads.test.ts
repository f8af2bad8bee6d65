import { describe, expect, it } from 'vitest';
import type { DeviceInfo } from '../../../contracts/device.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createMetrics } from '../../../lib/metrics.ts';
import type { DeadLetter } from '../../../ingest/dead-letters.ts';
import { createIngest } from '../../../ingest/pipeline.ts';

const T0 = Date.UTC(2026, 4, 1, 6, 0, 0);
const SOIL: DeviceInfo = {
  id: 'soil-1', kind: 'soil', devEui: '0011223344556677', reportIntervalS: 900, disabled: false,
  districtId: 'd', communityId: 'c', zoneId: 'z', plant: 'lawn',
  facilityId: undefined, facilityType: undefined, baselinePitch: undefined, baselineRoll: undefined,
};

function harness() {
  const dead: DeadLetter[] = [];
  const lines: string[] = [];
  const metrics = createMetrics({ defaults: false });
  const ingest = createIngest({
    lookup: { get: (id) => (id === SOIL.id ? SOIL : undefined), getByDevEui: (eui) => (eui === SOIL.devEui ? SOIL : undefined) },
    append: async (batch) => { lines.push(...batch); },
    deadLetter: (letter) => dead.push(letter),
    metrics,
    clock: createManualClock(T0),
    logger: createLogger('silent'),
    limits: { maxFutureSkewMs: 300_000, maxPastAgeMs: 7 * 86_400_000, maxPayloadBytes: 512 * 1024 },
  });
  return { ingest, dead, lines, metrics };
}

// 100k levels of nesting: 200 kB, under the default payload and packet limits.
const deep = '['.repeat(100_000) + ']'.repeat(100_000);
const uplink = (object: string) => `{"deduplicationId":"x1","deviceInfo":{"devEui":"0011223344556677"},"object":${object}}`;
const CS_TOPIC = 'application/app-1/device/0011223344556677/event/up';
const TTS_TOPIC = 'v3/app-1@ttn/devices/soil-1/up';
const ttsUp = (decoded: string) => `{"end_device_ids":{"device_id":"soil-1","application_ids":{"application_id":"app-1"}},"received_at":"2026-05-01T06:00:00Z","uplink_message":{"f_cnt":1,"decoded_payload":${decoded}}}`;

describe('a decoded payload built to break the decoder', () => {
  it.each([
    ['ChirpStack, a deeply nested value in a known field', CS_TOPIC, uplink(`{"moisture":${deep}}`)],
    ['The Things Stack, a deeply nested value in a known field', TTS_TOPIC, ttsUp(`{"moisture":${deep}}`)],
  ])('%s: is refused, counted and dead-lettered, and the publish is answered', async (_name, topic, payload) => {
    const h = harness();
    await expect(h.ingest.handle({ topic, payload: Buffer.from(payload), qos: 1 })).resolves.toBeUndefined();
    expect(h.lines).toStrictEqual([]);
    expect(h.dead).toMatchObject([{ reason: 'schema', topic }]);
    const rejected = await h.metrics.readingsRejected.get();
    expect(rejected.values).toMatchObject([{ labels: { reason: 'schema' }, value: 1 }]);
  });
});
