import type { Alert, AlertTransition } from '../contracts/alert.ts';
import type { Team } from '../contracts/team.ts';
import type { NotifyConfig } from './config.ts';
import { quietHoursOf, quietUntil, severityRank, type NotifyReason } from './policy.ts';
import type { Audience, Tracked } from './tracker.ts';

/**
 * The notifier's decisions, apart from its effects (the shape of rules/: plan, then
 * execute): what an alert transition, or a reminder or escalation falling due, changes in
 * the notifier's schedule and which items it queues for the teams. Pure: no clock, no
 * database; notifier.ts reads the state, calls this, and applies the actions in order.
 */

/** What the notifier knows of one alert when an event about it arrives. */
export interface NotifyState {
  tracked: Tracked | undefined;
  /** Resolution notices for the alert still waiting in a group window (read only when it matters: a resolved alert firing again). */
  unsentResolutions: number;
}

export type NotifyEvent =
  | { kind: 'transition'; transition: AlertTransition }
  | { kind: 'reminder-due'; tracked: Tracked }
  | { kind: 'escalation-due'; tracked: Tracked };

export interface NotifyPolicy {
  /** The teams answering for the alert's community now (none without a community). */
  teams: readonly Team[];
  config: Pick<NotifyConfig, 'reminderIntervalS' | 'escalateAfterS' | 'quietHours' | 'utcOffsetMinutes'>;
}

export type NotifyAction =
  | { type: 'track'; tracked: Tracked }
  | { type: 'queue'; alertId: number; teamId: string; audience: Audience; reason: NotifyReason; holdUntil: number }
  | { type: 'drop-pending'; alertId: number; reasons: readonly NotifyReason[] }
  /** A new alert no team answers for: nobody is told (counted and logged). */
  | { type: 'unrouted'; alert: Alert }
  /** The notifier reminded or escalated by itself: the alert service records it. */
  | { type: 'notified'; transition: AlertTransition }
  /** A transition older than the last one recorded for its alert (its seq at or below `lastSeq`): nothing changes (logged at debug). */
  | { type: 'stale'; transition: AlertTransition; lastSeq: number };

const ACTIVE_REASONS: readonly NotifyReason[] = ['firing', 'reminder', 'escalation'];

/**
 * Nodes sharing PostgreSQL each record the transitions they wrote, so two of one alert written
 * milliseconds apart on two nodes (a resolve on B, a reopen into firing on A) can reach the
 * tracker in the other order. The alert service numbers each transition it keeps in the alert's
 * history (AlertTransition.seq, written under the alert's lock: later is higher), and the
 * tracker keeps the last one recorded: one at or below it is older than what the tracker says
 * and is passed over; one above it is decided as usual and its seq recorded. Transitions with
 * no seq (restated, reminder, escalated) are decided as before.
 */
export function decideNotification(state: NotifyState, event: NotifyEvent, now: number, policy: NotifyPolicy): NotifyAction[] {
  const seq = event.kind === 'transition' ? event.transition.seq : undefined;
  if (event.kind !== 'transition' || seq === undefined) return decideEvent(state, event, now, policy);
  const lastSeq = state.tracked?.lastSeq ?? null;
  if (lastSeq !== null && seq <= lastSeq) return [{ type: 'stale', transition: event.transition, lastSeq }];
  const actions = decideEvent(state, event, now, policy).map((a) => (a.type === 'track' ? { ...a, tracked: { ...a.tracked, lastSeq: seq } } : a));
  // Nothing else to change (the creation heard after a later change with no seq): the seq still counts.
  if (state.tracked && !actions.some((a) => a.type === 'track')) actions.push({ type: 'track', tracked: { ...state.tracked, lastSeq: seq } });
  return actions;
}

function decideEvent(state: NotifyState, event: NotifyEvent, now: number, policy: NotifyPolicy): NotifyAction[] {
  const actions: NotifyAction[] = [];
  const { config } = policy;
  const reminderMs = (a: Alert): number => config.reminderIntervalS[a.severity] * 1000;
  const escalateMs = (a: Alert): number => config.escalateAfterS[a.severity] * 1000;

  /** Each team's item waits out that team's quiet hours (policy.ts quietHoursOf), critical ones none. */
  function queue(t: Tracked, audience: Audience, reason: NotifyReason): void {
    for (const teamId of t.teamIds) {
      const { quiet, utcOffsetMinutes } = quietHoursOf(policy.teams.find((team) => team.id === teamId), config);
      const holdUntil = quietUntil(now, t.alert.severity, quiet, utcOffsetMinutes) ?? now;
      actions.push({ type: 'queue', alertId: t.alert.id, teamId, audience, reason, holdUntil });
    }
  }
  const track = (tracked: Tracked): void => void actions.push({ type: 'track', tracked });

  function fire(t: AlertTransition, prev: Tracked | undefined): void {
    const { alert } = t;
    if (prev?.state === 'resolved') return refire(t, prev);
    if (prev?.state === 'firing') {
      const next = { ...prev, alert };
      track(next);
      if (severityRank(alert.severity) > severityRank(prev.alert.severity)) queue(next, 'team', 'firing'); // a severity upgrade is news
      return;
    }
    if (policy.teams.length === 0) actions.push({ type: 'unrouted', alert });
    const r = reminderMs(alert);
    const e = escalateMs(alert);
    const tracked: Tracked = {
      alert, state: 'firing', teamIds: policy.teams.map((team) => team.id), announcedAt: null,
      nextReminderAt: r > 0 ? t.at + r : null, escalateAt: e > 0 ? t.at + e : null, escalatedAt: null, reminders: 0, lastSeq: null,
    };
    track(tracked);
    queue(tracked, 'team', 'firing');
  }

  /**
   * The alert service reopened an alert that cleared moments ago (alerts/reopen.ts): same id,
   * so one line in a group, not one per flap. A resolution notice still waiting in its group
   * window was never news: drop it and say nothing more. Otherwise (the team heard it was
   * resolved, or never heard of it) the alert is announced again as firing.
   */
  function refire(t: AlertTransition, prev: Tracked): void {
    actions.push({ type: 'drop-pending', alertId: t.alert.id, reasons: ['resolved'] });
    const r = reminderMs(t.alert);
    const e = escalateMs(t.alert);
    const next: Tracked = { ...prev, alert: t.alert, state: 'firing', nextReminderAt: r > 0 ? t.at + r : null, escalateAt: prev.escalatedAt === null && e > 0 ? t.at + e : null };
    track(next);
    if (state.unsentResolutions === 0) queue(next, 'team', 'firing');
  }

  function settle(t: AlertTransition, prev: Tracked | undefined): void {
    const settled = t.to === 'resolved' ? 'resolved' : 'acknowledged';
    const next: Tracked = { ...(prev ?? { teamIds: [], announcedAt: null, escalatedAt: null, reminders: 0, lastSeq: null }), alert: t.alert, state: settled, nextReminderAt: null, escalateAt: null };
    track(next);
    // Nobody needs to hear about a problem that is already in hand.
    actions.push({ type: 'drop-pending', alertId: t.alert.id, reasons: ACTIVE_REASONS });
    // Reopened straight into "acknowledged": the resolution it replaces must not go out either.
    if (t.from === 'resolved') actions.push({ type: 'drop-pending', alertId: t.alert.id, reasons: ['resolved'] });
    if (settled === 'resolved' && prev?.announcedAt != null) {
      queue(next, 'team', 'resolved');
      if (prev.escalatedAt !== null) queue(next, 'supervisor', 'resolved');
    }
  }

  function remind(t: Tracked): void {
    queue(t, 'team', 'reminder');
    if (t.escalatedAt !== null) queue(t, 'supervisor', 'reminder');
    const r = reminderMs(t.alert);
    track({ ...t, reminders: t.reminders + 1, nextReminderAt: r > 0 ? now + r : null });
  }

  function escalate(t: Tracked): void {
    queue(t, 'supervisor', 'escalation');
    track({ ...t, escalatedAt: now });
  }

  const prev = state.tracked;
  if (event.kind === 'reminder-due') {
    remind(event.tracked);
    actions.push({ type: 'notified', transition: { alert: event.tracked.alert, from: 'firing', to: 'reminder', at: now } });
    return actions;
  }
  if (event.kind === 'escalation-due') {
    escalate(event.tracked);
    actions.push({ type: 'notified', transition: { alert: event.tracked.alert, from: 'firing', to: 'escalated', at: now } });
    return actions;
  }
  const t = event.transition;
  switch (t.to) {
    case 'firing':
      // The alert's creation (no `from`) heard after a later change of it: that change was written
      // on another node (an acknowledgement through its API) and its notifier got there first. The
      // alert is in hand or over; announcing it now would page for nothing and restart reminders.
      if (t.from === undefined && prev && prev.state !== 'firing') break;
      fire(t, prev);
      break;
    case 'acknowledged':
    case 'resolved': settle(t, prev); break;
    case 'reminder':
      if (prev?.state === 'firing') remind({ ...prev, alert: t.alert });
      break;
    case 'escalated':
      if (prev?.state === 'firing' && prev.escalatedAt === null) escalate({ ...prev, alert: t.alert });
      break;
    case 'severity_raised':
      // Worse is news while nobody has the alert in hand; once acknowledged, the
      // technician's work order carries the new severity and nobody is re-paged.
      if (prev?.state === 'firing') fire({ ...t, to: 'firing' }, prev);
      else if (prev) track({ ...prev, alert: t.alert });
      break;
    case 'restated':
      // No news: reminders and escalations quote the alert as it is now (a gateway's current device count).
      if (prev) track({ ...prev, alert: t.alert });
      break;
  }
  return actions;
}
