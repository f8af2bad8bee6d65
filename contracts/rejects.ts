/** Why a message was refused; each is counted in /metrics and kept in the dead-letter store. */
export const REJECT_REASONS = [
  'malformed_json',
  'schema',
  'out_of_range',
  'bad_timestamp',
  'unknown_device',
  /** A network server spoke for a LoRaWAN device bound to another of its applications. */
  'wrong_application',
  'topic_not_allowed',
  'too_large',
  'rate_limited',
  'duplicate',
  /** The network server's codec failed on the uplink (ChirpStack `event/log` UPLINK_CODEC): its message is kept. */
  'codec_error',
  'influx_refused',
  'durable_log_overflow',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface Rejection {
  reason: RejectReason;
  /** Human-readable, specific: which field, which limit, what was seen. */
  detail: string;
}
