import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DeviceInfo } from '../../../contracts/device.ts';
import { parseTopic } from '../../../contracts/topics.ts';
import { decode } from '../../../ingest/decode.ts';
import { describeMissing, mapDecoded } from '../../../ingest/profile-map.ts';
import { createProfileSet } from '../../../ingest/profile-set.ts';
import { CHIRPSTACK_CASES, TTS_CASES, type UplinkCase } from '../../fixtures/uplinks/cases.ts';

const fixture = (file: string): Buffer => readFileSync(new URL(`../../fixtures/uplinks/${file}`, import.meta.url));
const generic = createProfileSet([]);

/**
 * Decode, then map the decoded payload as the ingest does once it knows the device
 * (ingest/accept-decoded.ts) for a device without a profile: the generic field names.
 */
function check({ file, topic, kind = 'soil', expect: expected }: UplinkCase): void {
  const parsed = parseTopic(topic);
  expect(parsed, `topic ${topic}`).toBeDefined();
  const items = decode(parsed!, fixture(file));
  expect(items).toHaveLength(1);
  const [item] = items;
  let outcome: { ok: true; value: unknown; refused: string[] } | { ok: false; reason: string; detail: string };
  if (!item!.ok) outcome = { ok: false, ...item!.error };
  else if (item!.value.codec?.kind === 'missing') outcome = { ok: false, reason: 'schema', detail: item!.value.codec.detail };
  else {
    const { reading, deviceRef, decoded } = item!.value;
    const profile = generic.forDevice({ id: 'd', kind, devEui: '0011223344556677' } as DeviceInfo);
    const mapped = decoded ? mapDecoded(decoded.object, profile) : undefined;
    const missing = mapped && decoded ? describeMissing(mapped, profile, decoded.object, decoded.path) : undefined;
    outcome = missing
      ? { ok: false, ...missing }
      : { ok: true, value: { deviceRef, reading: { ...reading, fields: { ...mapped?.fields, ...reading.fields } } }, refused: mapped?.refusals.map((r) => r.detail) ?? [] };
  }
  if ('reason' in expected) {
    expect(outcome).toMatchObject({ ok: false, reason: expected.reason });
    if (!outcome.ok) expect(outcome.detail).toMatch(expected.detail);
  } else {
    const { fieldsRefused = [], ...value } = expected;
    expect(outcome.ok && outcome.value).toStrictEqual(value);
    if (outcome.ok) {
      expect(outcome.refused).toHaveLength(fieldsRefused.length);
      outcome.refused.forEach((detail, i) => expect(detail).toMatch(fieldsRefused[i]!));
    }
  }
}

describe('ChirpStack v4 uplinks', () => {
  it.each(CHIRPSTACK_CASES.map((c) => [`${c.file} on …/event/${c.topic.split('/').at(-1)}`, c] as const))('%s', (_name, c) => check(c));
});

describe('The Things Stack v3 uplinks', () => {
  it.each(TTS_CASES.map((c) => [`${c.file} on ${c.topic}`, c] as const))('%s', (_name, c) => check(c));
});
