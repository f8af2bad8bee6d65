import type { ParsedTopic } from '../contracts/topics.ts';
import { decodeChirpStack } from './decoders/chirpstack.ts';
import { decodeNative } from './decoders/native.ts';
import { decodeTts } from './decoders/tts.ts';
import type { DecodedItem } from './decoders/types.ts';

/**
 * The decoder table: one pure function per wire format. Adding a format is adding a
 * row here and a parser in contracts/topics.ts.
 */
const DECODERS: { [F in ParsedTopic['format']]: (topic: Extract<ParsedTopic, { format: F }>, payload: Buffer) => DecodedItem[] } = {
  native: decodeNative,
  chirpstack: decodeChirpStack,
  tts: decodeTts,
};

export function decode(topic: ParsedTopic, payload: Buffer): DecodedItem[] {
  const decoder = DECODERS[topic.format] as ((t: ParsedTopic, p: Buffer) => DecodedItem[]) | undefined;
  if (!decoder) return [{ ok: false, error: { reason: 'topic_not_allowed', detail: `no decoder for ${topic.format} topics` } }];
  return decoder(topic, payload);
}
