import { parseTopic } from '../contracts/topics.ts';
import type { Identity } from '../contracts/identity.ts';

/**
 * The ACL of DESIGN.md, as pure predicates. A device publishes only its own `up`,
 * `status` and `ack`, and subscribes only to its own `down`; admins may do anything.
 */
export function canPublish(identity: Identity, topic: string): boolean {
  if (identity.role === 'admin') return true;
  const parsed = parseTopic(topic);
  return parsed?.format === 'native' && parsed.deviceId === identity.deviceId && parsed.channel !== 'down';
}

export function canSubscribe(identity: Identity, topicFilter: string): boolean {
  if (identity.role === 'admin') return true;
  return topicFilter === `gs/${identity.deviceId}/down`;
}
