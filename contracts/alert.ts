import { z } from 'zod';

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export const Severity = z.enum(SEVERITIES);
export type Severity = z.infer<typeof Severity>;

export const ALERT_KINDS = [
  'facility_tilt', // tilt from baseline beyond the warning/critical angle
  'facility_impact', // sudden change or shock
  'facility_settlement', // slow drift over days
  'device_offline',
  'gateway_offline',
  'battery_low',
  'sensor_stuck',
  'sensor_out_of_range',
  'clock_skew',
  'valve_no_ack', // command not acknowledged after retries
  'valve_no_effect', // watered but moisture/flow did not rise
  'watering_needed', // manual zone: the crew should water
  'resident_report', // a resident's report from the community's public page (damage, green space dug up or occupied, watering)
  'zone_infeasible', // a zone no watering can keep in its band: a band its soil cannot hold, or a valve too small for it
  'sensor_disagreement', // a zone's soil sensors drifted apart: one of them is wrong
] as const;
export const AlertKind = z.enum(ALERT_KINDS);
export type AlertKind = z.infer<typeof AlertKind>;

export const ALERT_STATES = ['firing', 'acknowledged', 'resolved'] as const;
export const AlertState = z.enum(ALERT_STATES);
export type AlertState = z.infer<typeof AlertState>;

/**
 * What a detector asks for: raise (or keep) an alert for (kind, subject), or clear it.
 * The alert service turns these into lifecycle transitions; one active alert per key.
 */
export const AlertSignal = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('raise'),
    kind: AlertKind,
    /** The thing the alert is about: a facility, zone or device id. */
    subject: z.string(),
    severity: Severity,
    message: z.string(),
    communityId: z.string().optional(),
    districtId: z.string().optional(),
    /** Measured values that led to it, for the message and the record. */
    details: z.record(z.string(), z.unknown()).optional(),
    at: z.number().int(),
  }),
  z.object({ action: z.literal('clear'), kind: AlertKind, subject: z.string(), at: z.number().int(), reason: z.string().optional() }),
]);
export type AlertSignal = z.infer<typeof AlertSignal>;

/** An alert as stored and as notifications describe it. */
export const Alert = z.object({
  id: z.number().int(),
  kind: AlertKind,
  subject: z.string(),
  severity: Severity,
  state: AlertState,
  message: z.string(),
  communityId: z.string().nullable(),
  districtId: z.string().nullable(),
  firstFiredAt: z.number().int(),
  lastChangedAt: z.number().int(),
  acknowledgedBy: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});
export type Alert = z.infer<typeof Alert>;

/**
 * An alert's `details` hold the measured values of its first occurrence at the top level
 * (what its message states, and what the ledger records as the fault), `occurrences` (how
 * many times the condition was signalled while active) and, after a repeat, `latest`: the
 * most recent occurrence's values with its `at` and `message`. The values as they stand now
 * (for a detector restoring its state) are the first ones overlaid with the latest.
 */
export function currentDetails(details: Record<string, unknown> | null | undefined): Record<string, unknown> {
  const { latest, ...rest } = details ?? {};
  if (latest === null || typeof latest !== 'object') return rest;
  const { at: _at, message: _message, ...values } = latest as Record<string, unknown>;
  return { ...rest, ...values };
}

/** A lifecycle transition: what notifications and the InfluxDB `alert` measurement receive. */
export interface AlertTransition {
  alert: Alert;
  from: AlertState | undefined;
  /**
   * A lifecycle state, or `severity_raised` (the alert service: same alert, worse
   * condition), or `reminder` / `escalated` (the notifier's own: a repeat to the team,
   * a hand-over to the supervisor), or `restated` (the alert service: a changing state such
   * as the devices silent behind a gateway said anew in the message and details; no news,
   * not kept in the alert's history, so the notifier's copy quotes what is true now).
   */
  to: AlertState | 'severity_raised' | 'escalated' | 'reminder' | 'restated';
  at: number;
  by?: string;
  note?: string;
  /**
   * The transition's row in the alert's history (alert_transitions.id), for the transitions
   * kept there. They are written under the alert's lock, so per alert a later transition has
   * a higher seq on every node; a listener that hears two nodes' transitions (the notifier on
   * a shared PostgreSQL) orders them by it. None for those not kept (restated, and the
   * notifier's own reminder and escalated).
   */
  seq?: number;
}
