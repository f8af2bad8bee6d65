import type { Registry } from 'prom-client';
import type { Db } from '../registry/db.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Random } from '../lib/random.ts';
import type { NotifyConfig } from './config.ts';
import { createChannelSenders, type SendToChannel } from './channels/index.ts';
import { createOutbox } from './outbox.ts';
import { createSilenceStore } from './silences.ts';
import { createSqliteTeams, type TeamsFor } from './teams.ts';
import { createSqlitePlaceNames, type DescribePlace } from './places.ts';
import { createNotifyMetrics } from './metrics.ts';
import { createNotifier, type NotifierDeps } from './notifier.ts';
import { createOutboxWorker } from './worker.ts';

export interface NotificationDeps {
  db: Db;
  config: NotifyConfig;
  clock: Clock;
  random: Random;
  logger: Logger;
  /** The app's prom-client registry (lib/metrics.ts `registry`). */
  registry: Registry;
  /** Teams by community; defaults to the SQLite directory seeded from `config.teams`. */
  teamsFor?: TeamsFor;
  /** Place names for messages; defaults to the registry tables. */
  describePlace?: DescribePlace;
  /** Channel dispatch; defaults to the real senders (tests of the loop pass a fake). */
  send?: SendToChannel;
  onNotified?: NotifierDeps['onNotified'];
  /** Signed one-tap acknowledge links (app.ts, lib/signed-link.ts). */
  ackLink?: (alertId: number, recipient: string) => string;
}

export type NotificationService = ReturnType<typeof createNotificationService>;

/**
 * Everything notifications need, wired: the notifier (alert transitions → outbox) and
 * the worker (outbox → channels) on their own timers. app.ts subscribes `onTransition` to
 * the alert lifecycle and hands `outbox` and `silences` to the API routes.
 */
export function createNotificationService(deps: NotificationDeps) {
  const logger = deps.logger.child({ module: 'notify' });
  const outbox = createOutbox(deps.db);
  const silences = createSilenceStore(deps.db);
  const teams = createSqliteTeams(deps.db);
  for (const team of deps.config.teams) teams.upsert(team);
  const emailTeams = teams.list().filter((t) => [...t.channels, ...t.supervisorChannels].some((r) => r.channel.type === 'email')).map((t) => t.id);
  if (emailTeams.length > 0 && !deps.config.smtp) logger.warn({ teams: emailTeams }, 'email channels configured but no SMTP server (notify config `smtp`): their messages will fail');
  const metrics = createNotifyMetrics(deps.registry, () => outbox.backlog(deps.clock.now()));
  const senders = deps.send ? undefined : createChannelSenders({ smtp: deps.config.smtp, timeoutMs: deps.config.delivery.timeoutMs });
  const worker = createOutboxWorker({
    outbox, send: deps.send ?? senders!.send, clock: deps.clock, random: deps.random, logger, metrics, delivery: deps.config.delivery,
  });
  const notifier = createNotifier({
    db: deps.db, teamsFor: combineTeams(deps.teamsFor, teams.teamsFor), silences, outbox, clock: deps.clock, config: deps.config, logger, metrics,
    describePlace: deps.describePlace ?? createSqlitePlaceNames(deps.db, logger), onQueued: () => worker.kick(), onNotified: deps.onNotified,
    ...(deps.ackLink ? { ackLink: deps.ackLink } : {}),
  });
  return {
    /** The alert lifecycle calls this for every transition; it never throws and never waits on I/O beyond SQLite. */
    onTransition: notifier.onTransition,
    notifier,
    worker,
    outbox,
    silences,
    teams,
    metrics,
    start(): void {
      worker.start();
      notifier.start();
    },
    async stop(): Promise<void> {
      notifier.stop();
      await worker.stop();
      senders?.close();
    },
  };
}

/** The inventory's teams, plus any the notify config adds (the inventory wins on an id). */
function combineTeams(inventory: TeamsFor | undefined, configured: TeamsFor): TeamsFor {
  if (!inventory) return configured;
  return (communityId) => {
    const found = inventory(communityId);
    const ids = new Set(found.map((t) => t.id));
    return [...found, ...configured(communityId).filter((t) => !ids.has(t.id))];
  };
}
