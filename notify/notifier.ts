import type { Alert, AlertState, AlertTransition } from '../contracts/alert.ts';
import type { Sql, SqlQueries } from '../registry/sql/port.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { NotifyConfig } from './config.ts';
import type { TeamsFor } from './teams.ts';
import type { DescribePlace } from './places.ts';
import type { SilenceStore } from './silences.ts';
import type { Outbox } from './outbox.ts';
import type { NotifyMetrics } from './metrics.ts';
import { createTracker, type Tracked, type Tracker } from './tracker.ts';
import { isUnavailable } from '../registry/sql/unavailable.ts';
import { createFailureSpell } from '../lib/failure-spell.ts';
import { createSerialQueue } from '../lib/serial-queue.ts';
import { createGroupFlusher } from './flush.ts';
import { decideNotification, type NotifyAction, type NotifyEvent } from './decide.ts';

export interface NotifierDeps {
  /** The shared-state port: the data directory's SQLite, or PostgreSQL with GS_POSTGRES_URL. */
  sql: Sql;
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
  /**
   * The alert's state as the alert service has it now, read in the notifier's transaction (the
   * alerts are on the same port). The service commits a transition, then tells the notifier:
   * a tick in between (on any node) would read the tracker as firing, so a due reminder or
   * escalation is also checked here. Absent (tests of the notifier alone): the tracker only.
   */
  alertStateOf?: (q: SqlQueries, alertId: number) => Promise<AlertState | undefined>;
}

export type Notifier = ReturnType<typeof createNotifier>;

/**
 * A transition the store cannot take now (PostgreSQL away) is tried again after 0.5 s, doubling
 * to 30 s, for about ten minutes; the transitions and ticks behind it wait, so none overtakes it.
 */
const RETRY_MS = 500;
const RETRY_MAX_MS = 30_000;
const RETRY_ATTEMPTS = 25;

/** The lock a followed alert's bookkeeping holds (PostgreSQL: an advisory lock; SQLite: its write transaction). */
const alertKey = (alertId: number): string => `gs:notify:alert:${alertId}`;

/** Is a reminder or escalation the tick found still due, read again under the alert's lock (another node may have sent it)? */
function stillDue(event: Exclude<NotifyEvent, { kind: 'transition' }>['kind'], t: Tracked | undefined, now: number): t is Tracked {
  if (t?.state !== 'firing') return false;
  return event === 'reminder-due'
    ? t.nextReminderAt !== null && t.nextReminderAt <= now
    : t.escalatedAt === null && t.escalateAt !== null && t.escalateAt <= now;
}

/** At least this long before a skipped reminder or escalation is looked at again (postpone). */
const RECHECK_MIN_MS = 60_000;

/**
 * A due reminder or escalation of an alert the alert store has acknowledged or resolved, its
 * transition not recorded yet: looked at again after the interval it would have waited had it
 * gone out, not at the next tick (tracker.ts `postpone`). The transition, once recorded, sets
 * the schedule; if it never is, the alert costs one look per interval rather than one per tick.
 */
async function postpone(tracker: Tracker, kind: 'reminder-due' | 'escalation-due', t: Tracked, now: number, config: Pick<NotifyConfig, 'reminderIntervalS' | 'escalateAfterS'>): Promise<void> {
  const intervalS = kind === 'reminder-due' ? config.reminderIntervalS[t.alert.severity] : config.escalateAfterS[t.alert.severity];
  await tracker.postpone(t.alert.id, kind === 'reminder-due' ? 'reminder' : 'escalation', now + Math.max(RECHECK_MIN_MS, intervalS * 1000));
}

/** Apply a decision's bookkeeping (in the caller's transaction); returns what to tell the alert service after it commits. */
async function apply(deps: Pick<NotifierDeps, 'metrics' | 'logger'>, tracker: Tracker, actions: readonly NotifyAction[], now: number): Promise<AlertTransition[]> {
  const notified: AlertTransition[] = [];
  for (const action of actions) {
    switch (action.type) {
      case 'track': await tracker.put(action.tracked, now); break;
      case 'queue': await tracker.addPending(action.alertId, action.teamId, action.audience, action.reason, now, action.holdUntil); break;
      case 'drop-pending': await tracker.dropPending(action.alertId, action.reasons); break;
      case 'unrouted':
        deps.metrics?.unrouted.inc();
        deps.logger.warn({ alertId: action.alert.id, kind: action.alert.kind, community: action.alert.communityId }, 'no team answers for this alert; nobody is notified');
        break;
      case 'notified': notified.push(action.transition); break;
      case 'stale':
        // Another node's later transition of this alert was recorded first (decide.ts): expected, not a fault.
        deps.logger.debug({ alertId: action.transition.alert.id, to: action.transition.to, seq: action.transition.seq, lastSeq: action.lastSeq }, 'older alert transition passed over');
        break;
    }
  }
  return notified;
}

/** Waits before a retry that a stop can cut short. */
function createPauses() {
  const waiting = new Set<() => void>();
  return {
    pause: (ms: number): Promise<void> => new Promise((resolve) => {
      const done = (): void => { clearTimeout(t); waiting.delete(done); resolve(); };
      const t = setTimeout(done, ms);
      waiting.add(done);
    }),
    cutShort: (): void => { for (const done of [...waiting]) done(); },
  };
}

/**
 * Turns alert transitions into grouped, routed, scheduled messages in the outbox.
 * `onTransition` returns at once; its bookkeeping runs in a transaction of the SQL port
 * (SQLite, or PostgreSQL shared by the nodes), queued behind the port's other transactions and
 * never inside one, in the order the transitions came. Grouping windows, reminders,
 * escalations, quiet hours and silences are settled by `tick`, which `start` runs on its own
 * timer; on a shared PostgreSQL every node ticks, and each alert's reminder or escalation and
 * each group's message is taken under a lock and checked again, so it happens once in the
 * cluster. All times come from the injected clock. What each event changes is decided by
 * decide.ts (pure); this file reads the state and applies the decision.
 */
export function createNotifier(deps: NotifierDeps) {
  const { config, clock, logger, sql } = deps;
  let timer: NodeJS.Timeout | undefined;
  let lastPrune = 0;
  let stopped = false;
  const pauses = createPauses();
  // Transitions and ticks of this node, one after another: on PostgreSQL two transactions could
  // otherwise commit in either order, and an alert's "acknowledged" land before its "firing".
  const serially = createSerialQueue();
  // Acknowledged or resolved in the alert store, its transition not recorded yet: no reminder
  // or escalation is due (it is postponed by its interval: postpone), and none waiting in a group
  // goes out. The transition, once recorded, settles the schedule.
  const stillFiring = async (q: SqlQueries, alertId: number): Promise<boolean> => {
    const state = await deps.alertStateOf?.(q, alertId);
    return state === undefined || state === 'firing';
  };
  const flusher = createGroupFlusher({ ...deps, stillFiring });

  /** Read what the decision needs under the alert's lock, decide, apply: one transaction. */
  const handle = (event: NotifyEvent, alert: Alert, now: number): Promise<AlertTransition[]> => sql.transaction(async (tx) => {
    await tx.lock(alertKey(alert.id));
    const tracker = createTracker(tx);
    const tracked = await tracker.get(alert.id);
    if (event.kind !== 'transition') {
      if (!stillDue(event.kind, tracked, now)) return [];
      if (!await stillFiring(tx, alert.id)) {
        await postpone(tracker, event.kind, tracked, now, config);
        return [];
      }
      event = { kind: event.kind, tracked };
    }
    const refiring = event.kind === 'transition' && event.transition.to === 'firing' && tracked?.state === 'resolved';
    const state = { tracked, unsentResolutions: refiring ? await tracker.countPending(alert.id, ['resolved']) : 0 };
    const teams = alert.communityId ? deps.teamsFor(alert.communityId) : [];
    return apply(deps, tracker, decideNotification(state, event, now, { teams, config }), now);
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

  /** Record a transition; while the store is away (not for any other error), again after a wait. */
  async function record(t: AlertTransition, now: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await handle({ kind: 'transition', transition: t }, t.alert, now);
        if (attempt > 1) logger.info({ alertId: t.alert.id, to: t.to, attempts: attempt }, 'notification store back: transition recorded');
        return;
      } catch (error) {
        if (!isUnavailable(error) || stopped || attempt >= RETRY_ATTEMPTS) throw error;
        if (attempt === 1) logger.warn({ err: error, alertId: t.alert.id, to: t.to }, 'notification store unavailable: transition held, retrying');
        await pauses.pause(Math.min(RETRY_MS * 2 ** (attempt - 1), RETRY_MAX_MS));
      }
    }
  }

  function onTransition(t: AlertTransition): void {
    const now = clock.now();
    // The alert service must never fail because notification bookkeeping did.
    serially(() => record(t, now))
      .catch((error: unknown) => logger.error({ err: error, alertId: t.alert.id, to: t.to }, 'notification transition failed'));
  }

  /** Due reminders and escalations, then every group whose window has passed. */
  async function tickNow(): Promise<number> {
    const now = clock.now();
    const tracker = createTracker(sql);
    for (const t of await tracker.dueReminders(now)) tell(await handle({ kind: 'reminder-due', tracked: t }, t.alert, now));
    for (const t of await tracker.dueEscalations(now)) tell(await handle({ kind: 'escalation-due', tracked: t }, t.alert, now));
    const queued = await flusher.flushDue(now);
    if (queued > 0) deps.onQueued?.();
    if (now - lastPrune >= 3_600_000) {
      lastPrune = now;
      const before = now - config.retentionDays * 86_400_000;
      const rows = await deps.outbox.prune(before) + await tracker.pruneSettled(before);
      if (rows > 0) logger.info({ rows, retentionDays: config.retentionDays }, 'old notification records pruned');
    }
    return queued;
  }

  return {
    onTransition,
    /** One round of the timer's work, after the transitions already heard; resolves with the outbox rows queued. */
    tick: (): Promise<number> => serially(tickNow),
    /** Resolves once the transitions heard so far are recorded. */
    settled: (): Promise<void> => serially(async () => undefined),
    pendingItems: () => createTracker(sql).pendingCount(),
    start(): void {
      stopped = false;
      const tickSpell = createFailureSpell(logger, 'notification tick failed (repeats logged at debug until it works again)', 'notification ticks work again');
      let ticking = false;
      timer ??= setInterval(() => {
        if (ticking) return; // a slow store: skip a beat rather than pile ticks up
        ticking = true;
        serially(tickNow)
          .then(() => tickSpell.succeeded(), (error: unknown) => tickSpell.failed(error))
          .finally(() => { ticking = false; });
      }, config.tickMs);
      timer.unref();
    },
    /** Stop ticking; what was heard before is recorded before the store closes (one held for an absent store is tried once more, then logged). */
    stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      stopped = true;
      pauses.cutShort();
      return serially(async () => undefined);
    },
  };
}
