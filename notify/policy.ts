import { SEVERITIES, type Alert, type Severity } from '../contracts/alert.ts';
import type { ChannelRoute, QuietHours, Team } from '../contracts/team.ts';

/** Pure notification policy: no clock, no I/O; every time is an argument. */

const MINUTE = 60_000;
const DAY = 86_400_000;

export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/** A route takes an alert when the route's minimum severity is at or below the alert's. */
export const routeAccepts = (route: ChannelRoute, severity: Severity): boolean => severityRank(route.minSeverity) <= severityRank(severity);

/** A quiet-hours window without its offset (the offset is passed beside it). */
export type QuietWindow = Pick<QuietHours, 'start' | 'end'>;

/**
 * The quiet hours that hold a team's notifications, and the offset they are read at: the
 * team's own when it has them (null: none at all), else the notify config's. A team unknown
 * here (no longer answering for the community) gets the config's.
 */
export function quietHoursOf(
  team: Pick<Team, 'quietHours'> | undefined,
  global: { quietHours?: QuietWindow | undefined; utcOffsetMinutes: number },
): { quiet: QuietWindow | undefined; utcOffsetMinutes: number } {
  const own = team?.quietHours;
  if (own === undefined) return { quiet: global.quietHours, utcOffsetMinutes: global.utcOffsetMinutes };
  if (own === null) return { quiet: undefined, utcOffsetMinutes: global.utcOffsetMinutes };
  return { quiet: { start: own.start, end: own.end }, utcOffsetMinutes: own.utcOffsetMinutes ?? global.utcOffsetMinutes };
}

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * When quiet hours hold a notification of this severity created at `now`: the end of
 * the current quiet window, or undefined when it may go now. Critical alerts are never
 * held. The window may cross midnight (22:00–07:00); start == end means no window.
 */
export function quietUntil(now: number, severity: Severity, quiet: QuietWindow | undefined, utcOffsetMinutes: number): number | undefined {
  if (!quiet || severity === 'critical') return undefined;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return undefined;
  const local = now + utcOffsetMinutes * MINUTE;
  const dayStart = local - (((local % DAY) + DAY) % DAY);
  const minute = (local - dayStart) / MINUTE;
  const inside = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!inside) return undefined;
  const endLocal = dayStart + end * MINUTE + (start > end && minute >= start ? DAY : 0);
  return endLocal - utcOffsetMinutes * MINUTE;
}

export interface Silence {
  id: number;
  communityId: string | null;
  subject: string | null;
  kind: string | null;
  startsAt: number;
  endsAt: number;
}

/** A silence matches when every field it sets equals the alert's and `now` is inside [startsAt, endsAt). */
export function matchesSilence(silence: Silence, alert: Pick<Alert, 'communityId' | 'subject' | 'kind'>, now: number): boolean {
  if (now < silence.startsAt || now >= silence.endsAt) return false;
  if (silence.communityId !== null && silence.communityId !== alert.communityId) return false;
  if (silence.subject !== null && silence.subject !== alert.subject) return false;
  if (silence.kind !== null && silence.kind !== alert.kind) return false;
  return true;
}

/** The active silence covering the alert that ends last, or undefined when none does. */
export function silencedBy(silences: readonly Silence[], alert: Pick<Alert, 'communityId' | 'subject' | 'kind'>, now: number): Silence | undefined {
  let longest: Silence | undefined;
  for (const s of silences) if (matchesSilence(s, alert, now) && (!longest || s.endsAt > longest.endsAt)) longest = s;
  return longest;
}

/**
 * Delay before retry number `attempt` (1 = first retry): exponential, capped, with
 * "equal jitter" — half fixed, half random — so retries of many messages after one
 * outage spread out, yet never come back sooner than half the nominal delay.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const nominal = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(nominal / 2 + random() * (nominal / 2));
}

/** A group flushes once its oldest releasable item has waited the grouping window. */
export const isGroupDue = (oldestCreatedAt: number, now: number, windowMs: number): boolean => oldestCreatedAt + windowMs <= now;

export type NotifyReason = 'firing' | 'reminder' | 'escalation' | 'resolved';
const REASON_WEIGHT: Record<NotifyReason, number> = { reminder: 0, escalation: 1, firing: 2, resolved: 3 };

/** When one alert has several items in a group (say, deferred firing + reminder), say the most telling once. */
export const strongerReason = (a: NotifyReason, b: NotifyReason): NotifyReason => (REASON_WEIGHT[b] > REASON_WEIGHT[a] ? b : a);
