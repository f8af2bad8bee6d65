import type { BrokerIdentity } from './identity.ts';

/**
 * The MQTT contract's ACL (docs/architecture.md), as pure predicates. A device publishes only its own `up`,
 * `status` and `ack`, and subscribes only to its own `down`; a network server stays in
 * its applications' trees (ChirpStack `application/{appId}/...`, TTS `v3/{app}@{tenant}/...`);
 * admins may do anything, and are the only ones who can subscribe to `#` or `$SYS/#`.
 * Nobody, admins included, reaches the nodes' internal topics (`$gs/…`, the readings a
 * clustered node relays to a community's owner: cluster/reading-relay.ts); a wildcard
 * filter never matches them, as a '$' topic is matched by no filter starting with a wildcard.
 */
export function canPublish(identity: BrokerIdentity, topic: string): boolean {
  if (isInternalTopic(topic)) return false;
  if (identity.role === 'admin') return true;
  if (identity.role === 'service') return treeRoots(identity).some((root) => topic.startsWith(root));
  return isOwnPublishTopic(topic, identity.deviceId);
}

/**
 * gs/{deviceId}/up, /status or /ack of this device, compared in place: this runs for every
 * publish, and a registered id is a valid single topic level, so no parse is needed.
 */
function isOwnPublishTopic(topic: string, deviceId: string): boolean {
  const rest = 4 + deviceId.length; // 'gs/' + id + '/'
  if (!topic.startsWith('gs/') || !topic.startsWith(deviceId, 3) || topic.charCodeAt(rest - 1) !== 0x2f) return false;
  switch (topic.length - rest) {
    case 2: return topic.endsWith('up');
    case 3: return topic.endsWith('ack');
    case 6: return topic.endsWith('status');
    default: return false;
  }
}

export function canSubscribe(identity: BrokerIdentity, topicFilter: string): boolean {
  if (isInternalTopic(topicFilter)) return false;
  if (identity.role === 'admin') return true;
  // A root is a literal prefix ending in '/', and scopes cannot hold wildcards, so any
  // filter starting with it stays inside the tree.
  if (identity.role === 'service') return treeRoots(identity).some((root) => topicFilter.startsWith(root));
  return topicFilter === `gs/${identity.deviceId}/down`;
}

const treeRoots = (identity: Extract<BrokerIdentity, { role: 'service' }>): string[] =>
  identity.applications.map((app) => (identity.kind === 'chirpstack' ? `application/${app}/` : `v3/${app}/`));

/** The nodes' own topics (cluster/reading-relay.ts): `$gs/`, compared case-sensitively as MQTT topics are. */
export const isInternalTopic = (topic: string): boolean => topic.startsWith('$gs/');
