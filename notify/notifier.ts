import type { Alert, AlertTransition } from '../contracts/alert.ts';
import type { Db } from '../registry/db.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { NotifyConfig } from './config.ts';
import type { TeamsFor } from './teams.ts';
import type { DescribePlace } from './places.ts';
import type { SilenceStore } from './silences.ts';
import type { Outbox } from './outbox.ts';
import type { NotifyMetrics } from './metrics.ts';
import { createTracker, type Audience, type Tracked } from './tracker.ts';
import { quietHoursOf, quietUntil, severityRank, type NotifyReason } from './policy.ts';
import { createGroupFlusher } from './flush.ts';

export interface NotifierDeps {
  db: Db;
  /** Which teams answer for a community (the inventory's port). */
  teamsFor: TeamsFor;
  silences: SilenceStore;
  outbox: Outbox;
  clock: Clock;
  config: NotifyConfig;
  logger: Logger;
  describePlace?: DescribePlace;
  metrics?: NotifyMetrics;
  /** Called after messages were put in the outbox (wire to the worker's kick). */
  onQueued?: () => void;
  /**
   * Told when the notifier itself reminds or escalates, so the alert service can record
   * it. Feeding these back into onTransition is harmless: an escalation is idempotent
   * and a reminder from outside only restarts the interval.
   */
  onNotified?: (t: AlertTransition) => void;
}

export type Notifier = ReturnType<typeof createNotifier>;

const ACTIVE_REASONS: readonly NotifyReason[] = ['firing', 'reminder', 'escalation'];

/**
 * Turns alert transitions into grouped, routed, scheduled messages in the outbox.
 * `onTransition` does a few SQLite writes and returns; grouping windows, reminders,
 * escalations, quiet hours and silences are settled by `tick`, which `start` runs on
 * its own timer. All times come from the injected clock.
 */
export function createNotifier(deps: NotifierDeps) {
  const { config, clock, logger } = deps;
  const tracker = createTracker(deps.db);
  const flusher = createGroupFlusher({ ...deps, tracker });
  let timer: NodeJS.Timeout | undefined;
  let lastPrune = 0;

  const reminderMs = (a: Alert): number => config.reminderIntervalS[a.severity] * 1000;
  const escalateMs = (a: Alert): number => config.escalateAfterS[a.severity] * 1000;

  /** Each team's item waits out that team's quiet hours (policy.ts quietHoursOf), critical ones none. */
  function enqueue(t: Tracked, audience: Audience, reason: NotifyReason, now: number): void {
    const teams = t.alert.communityId && t.teamIds.length > 0 ? deps.teamsFor(t.alert.communityId) : [];
    for (const teamId of t.teamIds) {
      const { quiet, utcOffsetMinutes } = quietHoursOf(teams.find((team) => team.id === teamId), config);
      const hold = quietUntil(now, t.alert.severity, quiet, utcOffsetMinutes) ?? now;
      tracker.addPending(t.alert.id, teamId, audience, reason, now, hold);
    }
  }

  function resolveTeams(alert: Alert): string[] {
    const teams = alert.communityId ? deps.teamsFor(alert.communityId) : [];
    if (teams.length === 0) {
      deps.metrics?.unrouted.inc();
      logger.warn({ alertId: alert.id, kind: alert.kind, community: alert.communityId }, 'no team answers for this alert; nobody is notified');
    }
    return teams.map((t) => t.id);
  }

  function fire(t: AlertTransition, prev: Tracked | undefined, now: number): void {
    const { alert } = t;
    if (prev?.state === 'resolved') return refire(t, prev, now);
    if (prev?.state === 'firing') {
      const worse = severityRank(alert.severity) > severityRank(prev.alert.severity);
      const next = { ...prev, alert };
      tracker.put(next, now);
      if (worse) enqueue(next, 'team', 'firing', now); // a severity upgrade is news
      return;
    }
    const r = reminderMs(alert);
    const e = escalateMs(alert);
    const tracked: Tracked = {
      alert, state: 'firing', teamIds: resolveTeams(alert), announcedAt: null,
      nextReminderAt: r > 0 ? t.at + r : null, escalateAt: e > 0 ? t.at + e : null, escalatedAt: null, reminders: 0,
    };
    tracker.put(tracked, now);
    enqueue(tracked, 'team', 'firing', now);
  }

  /**
   * The alert service reopened an alert that cleared moments ago (alerts/reopen.ts): same id,
   * so one line in a group, not one per flap. A resolution notice still waiting in its group
   * window was never news: drop it and say nothing more. Otherwise (the team heard it was
   * resolved, or never heard of it) the alert is announced again as firing.
   */
  function refire(t: AlertTransition, prev: Tracked, now: number): void {
    const unsent = tracker.dropPending(t.alert.id, ['resolved']);
    const r = reminderMs(t.alert);
    const e = escalateMs(t.alert);
    const next: Tracked = { ...prev, alert: t.alert, state: 'firing', nextReminderAt: r > 0 ? t.at + r : null, escalateAt: prev.escalatedAt === null && e > 0 ? t.at + e : null };
    tracker.put(next, now);
    if (unsent === 0) enqueue(next, 'team', 'firing', now);
  }

  function settle(t: AlertTransition, prev: Tracked | undefined, now: number): void {
    const state = t.to === 'resolved' ? 'resolved' : 'acknowledged';
    const next: Tracked = { ...(prev ?? { teamIds: [], announcedAt: null, escalatedAt: null, reminders: 0 }), alert: t.alert, state, nextReminderAt: null, escalateAt: null };
    tracker.put(next, now);
    // Nobody needs to hear about a problem that is already in hand.
    tracker.dropPending(t.alert.id, ACTIVE_REASONS);
    // Reopened straight into "acknowledged": the resolution it replaces must not go out either.
    if (t.from === 'resolved') tracker.dropPending(t.alert.id, ['resolved']);
    if (state === 'resolved' && prev?.announcedAt != null) {
      enqueue(next, 'team', 'resolved', now);
      if (prev.escalatedAt !== null) enqueue(next, 'supervisor', 'resolved', now);
    }
  }

  function remind(t: Tracked, now: number): void {
    enqueue(t, 'team', 'reminder', now);
    if (t.escalatedAt !== null) enqueue(t, 'supervisor', 'reminder', now);
    const r = reminderMs(t.alert);
    tracker.put({ ...t, reminders: t.reminders + 1, nextReminderAt: r > 0 ? now + r : null }, now);
  }

  function escalate(t: Tracked, now: number): void {
    enqueue(t, 'supervisor', 'escalation', now);
    tracker.put({ ...t, escalatedAt: now }, now);
  }

  const notified = (t: Tracked, to: 'reminder' | 'escalated', at: number): void => {
    try {
      deps.onNotified?.({ alert: t.alert, from: 'firing', to, at });
    } catch (error) {
      logger.error({ err: error, alertId: t.alert.id }, 'onNotified listener failed');
    }
  };

  function onTransition(t: AlertTransition): void {
    const now = clock.now();
    try {
      const prev = tracker.get(t.alert.id);
      deps.db.transaction(() => {
        switch (t.to) {
          case 'firing': return fire(t, prev, now);
          case 'acknowledged':
          case 'resolved': return settle(t, prev, now);
          case 'reminder':
            if (prev?.state === 'firing') remind({ ...prev, alert: t.alert }, now);
            return;
          case 'escalated':
            if (prev?.state === 'firing' && prev.escalatedAt === null) escalate({ ...prev, alert: t.alert }, now);
            return;
          case 'severity_raised':
            // Worse is news while nobody has the alert in hand; once acknowledged, the
            // technician's work order carries the new severity and nobody is re-paged.
            if (prev?.state === 'firing') return fire({ ...t, to: 'firing' }, prev, now);
            if (prev) tracker.put({ ...prev, alert: t.alert }, now);
            return;
        }
      })();
    } catch (error) {
      // The alert service must never fail because notification bookkeeping did.
      logger.error({ err: error, alertId: t.alert.id, to: t.to }, 'notification transition failed');
    }
  }

  /** Due reminders and escalations, then every group whose window has passed. */
  function tick(): number {
    const now = clock.now();
    for (const t of tracker.dueReminders(now)) {
      deps.db.transaction(() => remind(t, now))();
      notified(t, 'reminder', now);
    }
    for (const t of tracker.dueEscalations(now)) {
      deps.db.transaction(() => escalate(t, now))();
      notified(t, 'escalated', now);
    }
    const queued = flusher.flushDue(now);
    if (queued > 0) deps.onQueued?.();
    if (now - lastPrune >= 3_600_000) {
      lastPrune = now;
      const before = now - config.retentionDays * 86_400_000;
      const rows = deps.outbox.prune(before) + tracker.pruneSettled(before);
      if (rows > 0) logger.info({ rows, retentionDays: config.retentionDays }, 'old notification records pruned');
    }
    return queued;
  }

  return {
    onTransition,
    tick,
    pendingItems: () => tracker.pendingCount(),
    start(): void {
      timer ??= setInterval(() => {
        try {
          tick();
        } catch (error) {
          logger.error({ err: error }, 'notification tick failed');
        }
      }, config.tickMs);
      timer.unref();
    },
    stop(): void {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
