import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTopic } from '../../../contracts/topics.ts';
import { decode } from '../../../ingest/decode.ts';
import { CHIRPSTACK_CASES, TTS_CASES, type UplinkCase } from '../../fixtures/uplinks/cases.ts';

const fixture = (file: string): Buffer => readFileSync(new URL(`../../fixtures/uplinks/${file}`, import.meta.url));

function check({ file, topic, expect: expected }: UplinkCase): void {
  const parsed = parseTopic(topic);
  expect(parsed, `topic ${topic}`).toBeDefined();
  const items = decode(parsed!, fixture(file));
  expect(items).toHaveLength(1);
  const [item] = items;
  if ('reason' in expected) {
    expect(item).toMatchObject({ ok: false, error: { reason: expected.reason } });
    if (!item!.ok) expect(item!.error.detail).toMatch(expected.detail);
  } else {
    expect(item).toStrictEqual({ ok: true, value: expected });
  }
}

describe('ChirpStack v4 uplinks', () => {
  it.each(CHIRPSTACK_CASES.map((c) => [`${c.file} on …/event/${c.topic.split('/').at(-1)}`, c] as const))('%s', (_name, c) => check(c));
});

describe('The Things Stack v3 uplinks', () => {
  it.each(TTS_CASES.map((c) => [`${c.file} on ${c.topic}`, c] as const))('%s', (_name, c) => check(c));
});
