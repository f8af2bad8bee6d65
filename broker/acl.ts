import { parseTopic } from '../contracts/topics.ts';
import type { BrokerIdentity } from './identity.ts';

/**
 * The ACL of DESIGN.md, as pure predicates. A device publishes only its own `up`,
 * `status` and `ack`, and subscribes only to its own `down`; a network server stays in
 * its applications' trees (ChirpStack `application/{appId}/...`, TTS `v3/{app}@{tenant}/...`);
 * admins may do anything, and are the only ones who can subscribe to `#` or `$SYS/#`.
 */
export function canPublish(identity: BrokerIdentity, topic: string): boolean {
  if (identity.role === 'admin') return true;
  if (identity.role === 'service') return treeRoots(identity).some((root) => topic.startsWith(root));
  const parsed = parseTopic(topic);
  return parsed?.format === 'native' && parsed.deviceId === identity.deviceId && parsed.channel !== 'down';
}

export function canSubscribe(identity: BrokerIdentity, topicFilter: string): boolean {
  if (identity.role === 'admin') return true;
  // A root is a literal prefix ending in '/', and scopes cannot hold wildcards, so any
  // filter starting with it stays inside the tree.
  if (identity.role === 'service') return treeRoots(identity).some((root) => topicFilter.startsWith(root));
  return topicFilter === `gs/${identity.deviceId}/down`;
}

const treeRoots = (identity: Extract<BrokerIdentity, { role: 'service' }>): string[] =>
  identity.applications.map((app) => (identity.kind === 'chirpstack' ? `application/${app}/` : `v3/${app}/`));
