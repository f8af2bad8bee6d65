import type { Rejection } from '../contracts/rejects.ts';
import type { ParsedTopic } from '../contracts/topics.ts';
import { recordRejection } from './dead-letters.ts';
import type { IngestDeps, IngestMessage } from './pipeline.ts';
import type { FieldRefusal } from './profile-map.ts';

/**
 * The three ways the ingest says no, each counted and kept in the dead-letter store with
 * the device: a refused message or reading, one field dropped from a reading that was
 * kept, and a network server's codec failing on an uplink. `flush` first hands the hot
 * counters to prom-client, so /metrics and the dead letters agree.
 */
export function createRefusals(deps: Pick<IngestDeps, 'metrics' | 'deadLetter' | 'clock'>, flush: () => void) {
  const { metrics, deadLetter, clock } = deps;
  return {
    reject(rejection: Rejection, msg: IngestMessage, deviceId: string | undefined): void {
      flush();
      recordRejection(metrics, deadLetter, { at: clock.now(), reason: rejection.reason, detail: rejection.detail, deviceId, topic: msg.topic, payload: msg.payload });
    },

    /** Not a refused reading (gs_readings_rejected_total): counted per profile, field and reason. */
    refuseField(profile: string, refusal: FieldRefusal, msg: IngestMessage, deviceId: string): void {
      flush();
      metrics.readingFieldsRefused.inc({ profile, field: refusal.field, reason: refusal.reason });
      const reason = refusal.reason === 'out_of_range' ? 'out_of_range' : 'schema';
      metrics.deadLetters.inc({ reason });
      deadLetter({ at: clock.now(), reason, detail: `${refusal.detail} (field ${refusal.field} dropped; the rest of the reading kept)`, deviceId, topic: msg.topic, payload: msg.payload });
    },

    /** The log event itself; the `up` without payload that follows is refused through `reject`. */
    codecFailed(format: ParsedTopic['format'], message: string, msg: IngestMessage, deviceId: string): void {
      flush();
      metrics.codecErrors.inc({ format });
      metrics.deadLetters.inc({ reason: 'codec_error' });
      deadLetter({ at: clock.now(), reason: 'codec_error', detail: `the codec failed: ${message}`, deviceId, topic: msg.topic, payload: msg.payload });
    },
  };
}
