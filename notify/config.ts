import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ClockTime, Team, UtcOffsetMinutes } from '../contracts/team.ts';
import { ALERT_KINDS, type AlertKind } from '../contracts/alert.ts';
import { ConfigError } from '../config/config.ts';
import { parseBoundedConfig } from '../lib/bounded-yaml.ts';

const seconds = z.number().int().min(0).max(30 * 86_400);
/** Per-severity seconds; 0 turns the behaviour off for that severity. */
const perSeverity = (defaults: { info: number; warning: number; critical: number }) =>
  z.strictObject({ info: seconds.default(defaults.info), warning: seconds.default(defaults.warning), critical: seconds.default(defaults.critical) }).default(defaults);

/**
 * Per alert kind, seconds after an automatic clear within which the same condition reopens the
 * same alert (alerts/reopen.ts has the defaults and why); 0 = never reopen. Only the kinds
 * given change. An unknown kind is refused by name, with the list of known ones.
 */
const reopenShape = Object.fromEntries(ALERT_KINDS.map((k) => [k, seconds.optional()])) as Record<AlertKind, z.ZodOptional<typeof seconds>>;
export const ReopenWithinS = z.strictObject(reopenShape, {
  error: (issue) => (issue.code === 'unrecognized_keys'
    ? `unknown alert kind ${issue.keys.map((k) => `"${k}"`).join(', ')}; expected one of ${ALERT_KINDS.join(', ')}`
    : undefined),
});

/** Everything the notifier needs; loaded from GS_NOTIFY_CONFIG (YAML or JSON), every key optional. */
export const NotifyConfig = z.strictObject({
  /** Alerts for the same team within this window go out as one message (storm control). */
  groupWindowS: seconds.default(30),
  /** Repeat a reminder at this interval while the alert is firing and unacknowledged. */
  reminderIntervalS: perSeverity({ info: 0, warning: 4 * 3600, critical: 1800 }),
  /** Escalate to the team's supervisor channels after this long unacknowledged. */
  escalateAfterS: perSeverity({ info: 0, warning: 8 * 3600, critical: 3600 }),
  /**
   * Non-critical notifications falling in this local-time window are held until it ends (never
   * dropped). A team's own `quietHours` (contracts/team.ts) replaces it for that team.
   */
  quietHours: z.strictObject({ start: ClockTime, end: ClockTime }).optional(),
  /**
   * Local time offset used for quiet hours and message timestamps. China has one zone
   * and no DST, so a fixed offset (UTC+8) is exact and keeps the policy pure.
   */
  utcOffsetMinutes: UtcOffsetMinutes.default(480),
  /** Per alert kind: how long after an automatic clear a returning condition reopens the same alert. */
  reopenWithinS: ReopenWithinS.default({}),
  /** An unsigned `{ackBaseUrl}/{alertId}/ack`, only where no signer is wired; the server signs one-tap links on GS_PUBLIC_URL (lib/signed-link.ts). */
  ackBaseUrl: z.url().default('http://127.0.0.1:3000/alerts'),
  delivery: z.strictObject({
    concurrency: z.number().int().min(1).max(64).default(4),
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    maxAttempts: z.number().int().min(1).max(100).default(12),
    backoffBaseMs: z.number().int().min(1).max(3_600_000).default(5_000),
    backoffMaxMs: z.number().int().min(1).max(86_400_000).default(30 * 60_000),
    pollMs: z.number().int().min(10).max(60_000).default(1_000),
  }).default({ concurrency: 4, timeoutMs: 10_000, maxAttempts: 12, backoffBaseMs: 5_000, backoffMaxMs: 30 * 60_000, pollMs: 1_000 }),
  /** Sent and abandoned notifications, and settled alerts, are kept this long for the API. */
  retentionDays: z.number().int().min(1).max(3650).default(30),
  /** How often reminders, escalations and group windows are checked. */
  tickMs: z.number().int().min(10).max(60_000).default(1_000),
  smtp: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    secure: z.boolean().default(false),
    from: z.string().min(3),
    user: z.string().optional(),
    pass: z.string().optional(),
    /** Refuse to send without STARTTLS; off only for a loopback relay. */
    requireTls: z.boolean().default(false),
  }).optional(),
  /** Teams known before the inventory provides them; upserted into SQLite at start. */
  teams: z.array(Team).default([]),
});
export type NotifyConfig = z.infer<typeof NotifyConfig>;
export type NotifyConfigInput = z.input<typeof NotifyConfig>;

/** Read GS_NOTIFY_CONFIG if set; defaults otherwise. Throws a ConfigError (main.ts prints it) naming every bad value. */
export function loadNotifyConfig(env: NodeJS.ProcessEnv, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): NotifyConfig {
  const file = env.GS_NOTIFY_CONFIG;
  let raw: unknown = {};
  if (file) {
    try {
      raw = parseBoundedConfig(readFile(file), file) ?? {}; // size, nesting and aliases bounded (lib/bounded-yaml.ts)
    } catch (error) {
      throw new ConfigError([`GS_NOTIFY_CONFIG=${file}: cannot read or parse the file (${(error as Error).message.split('\n')[0]})`]);
    }
  }
  const parsed = NotifyConfig.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ConfigError(parsed.error.issues.map((i) => `${file ?? 'notify config'}: ${i.path.join('.') || '(top level)'}: ${i.message}`));
}
