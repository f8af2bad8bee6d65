import { parseTopic, type ParsedTopic } from '../contracts/topics.ts';

/** Parsed topics by topic string: a device publishes on the same topic all its life. */
const TOPIC_CACHE_MAX = 200_000;

/**
 * Does this parsed topic go to the ingest: readings, and ChirpStack's `log` events (they say
 * when the codec failed on an uplink, so the `up` without `object` that follows is explained)?
 */
export const carriesReadings = (parsed: ParsedTopic | undefined): boolean =>
  parsed !== undefined && (parsed.format === 'native' ? parsed.channel === 'up' : parsed.event === 'up' || (parsed.format === 'chirpstack' && parsed.event === 'log'));

/** `parseTopic` behind a bounded cache (cleared whole when full); a topic outside the contract is cached too. */
export function createTopicCache(): (topic: string) => ParsedTopic | undefined {
  const topics = new Map<string, ParsedTopic | null>();
  return (topic) => {
    let parsed = topics.get(topic);
    if (parsed === undefined) {
      if (topics.size >= TOPIC_CACHE_MAX) topics.clear();
      parsed = parseTopic(topic) ?? null;
      topics.set(topic, parsed);
    }
    return parsed ?? undefined;
  };
}
