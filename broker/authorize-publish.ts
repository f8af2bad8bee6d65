import type { AedesOptions } from 'aedes';
import type { DeviceInfo } from '../contracts/device.ts';
import type { Metrics } from '../lib/metrics.ts';
import type { RefusalLog } from '../lib/refusal-log.ts';
import type { IngestMessage, Settle } from '../ingest/pipeline.ts';
import { canPublish } from './acl.ts';
import type { BrokerIdentity } from './identity.ts';
import type { PublishVerdict } from './publish-limiter.ts';

/** Readings dropped by the rate limit are re-addressed here: '#' never matches a '$' topic and no ACL grants it. */
export const DROPPED_TOPIC = '$GS/dropped';

export interface AuthorizePublishDeps {
  identity: (client: object) => BrokerIdentity | undefined;
  /** Sessions taken over or revoked: what they still send, their will included, is not accepted. */
  hasEnded: (client: object) => boolean;
  limit: (client: object, kind: 'device' | 'service') => PublishVerdict;
  isReadingTopic: (topic: string) => boolean;
  getDevice: (id: string) => DeviceInfo | undefined;
  /** The ingest: `settle` runs once the message's readings are durable (QoS 1 only; QoS 0 passes none). */
  ingest: (msg: IngestMessage, settle?: Settle) => void;
  metrics: Metrics;
  /** Refusals reach the log aggregated per reason and address (lib/refusal-log.ts). */
  refusals: RefusalLog;
  addressOf: (client: { conn: unknown }) => string;
}

const toBuffer = (payload: string | Buffer): Buffer => (typeof payload === 'string' ? Buffer.from(payload) : payload);

/**
 * The publish path as named steps: session → ACL → rate → ingest. It runs before aedes
 * writes the PUBACK, so a QoS 1 reading is acknowledged only once durable; an error here
 * closes an MQTT 3.1.1 connection.
 */
export function createAuthorizePublish(deps: AuthorizePublishDeps): NonNullable<AedesOptions['authorizePublish']> {
  const { metrics, refusals } = deps;
  return (client, packet, done) => {
    if (!client) return done(null); // the broker's own publishes (status, commands)
    // A session taken over must not overwrite the new session's status with its will; a revoked one is not trusted.
    if (deps.hasEnded(client)) return done(new Error('session ended'));

    const identity = deps.identity(client);
    if (!identity || !canPublish(identity, packet.topic)) {
      metrics.authFailures.inc({ reason: 'publish_denied' });
      metrics.readingsRejected.inc({ reason: 'topic_not_allowed' });
      refusals.note('publish_denied', deps.addressOf(client), 'publish refused', { clientId: client.id, topic: packet.topic });
      return done(new Error('publish not authorized'));
    }

    const verdict = deps.limit(client, identity.role === 'device' ? 'device' : 'service');
    if (verdict !== 'ok') {
      metrics.authFailures.inc({ reason: 'rate_limited' });
      if (deps.isReadingTopic(packet.topic)) metrics.readingsRejected.inc({ reason: 'rate_limited' });
      // A QoS 1 PUBACK promises "kept": closing instead leaves the message with the device to resend later.
      if (verdict === 'disconnect' || packet.qos > 0) {
        metrics.authFailures.inc({ reason: 'rate_limit_disconnect' });
        refusals.note('rate_limit_disconnect', deps.addressOf(client), 'publish rate limit exceeded: disconnecting', { clientId: client.id, topic: packet.topic, qos: packet.qos });
        return done(new Error('publish rate limit exceeded'));
      }
      packet.topic = DROPPED_TOPIC;
      packet.retain = false;
      return done(null);
    }

    if (!deps.isReadingTopic(packet.topic)) return done(null);
    packet.retain = false; // readings are a stream, never retained state
    const device = identity.role === 'device' ? deps.getDevice(identity.deviceId) : undefined;
    const msg: IngestMessage = { topic: packet.topic, payload: toBuffer(packet.payload), qos: packet.qos, device };
    if (packet.qos === 0) {
      deps.ingest(msg); // a failure is logged by the ingest; QoS 0 promises nothing
      return done(null);
    }
    deps.ingest(msg, (error) => done(error ?? null));
  };
}
