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
import { createTracker } from './tracker.ts';
import { createGroupFlusher } from './flush.ts';
import { decideNotification, type NotifyAction, type NotifyEvent } from './decide.ts';

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
  ackLink?: (alertId: number, recipient: string) => string;
}

export type Notifier = ReturnType<typeof createNotifier>;

/**
 * Turns alert transitions into grouped, routed, scheduled messages in the outbox.
 * `onTransition` does a few SQLite writes and returns; grouping windows, reminders,
 * escalations, quiet hours and silences are settled by `tick`, which `start` runs on
 * its own timer. All times come from the injected clock. What each event changes is
 * decided by decide.ts (pure); this file reads the state and applies the decision.
 */
export function createNotifier(deps: NotifierDeps) {
  const { config, clock, logger } = deps;
  const tracker = createTracker(deps.db);
  const flusher = createGroupFlusher({ ...deps, tracker });
  let timer: NodeJS.Timeout | undefined;
  let lastPrune = 0;

  /** Apply a decision's bookkeeping (in the caller's transaction); returns what to tell the alert service after it commits. */
  function apply(actions: readonly NotifyAction[], now: number): AlertTransition[] {
    const notified: AlertTransition[] = [];
    for (const action of actions) {
      switch (action.type) {
        case 'track': tracker.put(action.tracked, now); break;
        case 'queue': tracker.addPending(action.alertId, action.teamId, action.audience, action.reason, now, action.holdUntil); break;
        case 'drop-pending': tracker.dropPending(action.alertId, action.reasons); break;
        case 'unrouted':
          deps.metrics?.unrouted.inc();
          logger.warn({ alertId: action.alert.id, kind: action.alert.kind, community: action.alert.communityId }, 'no team answers for this alert; nobody is notified');
          break;
        case 'notified': notified.push(action.transition); break;
      }
    }
    return notified;
  }

  /** Read what the decision needs, decide, apply: one transaction. */
  const handle = deps.db.transaction((event: NotifyEvent, alert: Alert, now: number): AlertTransition[] => {
    const tracked = event.kind === 'transition' ? tracker.get(alert.id) : event.tracked;
    const refiring = event.kind === 'transition' && event.transition.to === 'firing' && tracked?.state === 'resolved';
    const state = { tracked, unsentResolutions: refiring ? tracker.countPending(alert.id, ['resolved']) : 0 };
    const teams = alert.communityId ? deps.teamsFor(alert.communityId) : [];
    return apply(decideNotification(state, event, now, { teams, config }), now);
  });

  const tell = (transitions: readonly AlertTransition[]): void => {
    for (const t of transitions) {
      try {
        deps.onNotified?.(t);
      } catch (error) {
        logger.error({ err: error, alertId: t.alert.id }, 'onNotified listener failed');
      }
    }
  };

  function onTransition(t: AlertTransition): void {
    try {
      handle({ kind: 'transition', transition: t }, t.alert, clock.now());
    } catch (error) {
      // The alert service must never fail because notification bookkeeping did.
      logger.error({ err: error, alertId: t.alert.id, to: t.to }, 'notification transition failed');
    }
  }

  /** Due reminders and escalations, then every group whose window has passed. */
  function tick(): number {
    const now = clock.now();
    for (const t of tracker.dueReminders(now)) tell(handle({ kind: 'reminder-due', tracked: t }, t.alert, now));
    for (const t of tracker.dueEscalations(now)) tell(handle({ kind: 'escalation-due', tracked: t }, t.alert, now));
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
