import type { Registry } from 'prom-client';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Db } from '../registry/db.ts';
import type { Sql } from '../registry/sql/port.ts';
import { sqliteSqlOf } from '../registry/sql/sqlite.ts';
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
  /** The data directory's SQLite: the config's teams and the place names (the registry's). */
  db: Db;
  /**
   * Where the notifier's state lives (followed alerts, waiting items, silences, the outbox):
   * PostgreSQL shared by the nodes with GS_POSTGRES_URL (app/shared-state.ts); by default the
   * port over `db`.
   */
  sql?: Sql;
  /** This node's name on the outbox rows it claims; by default host, pid and a random suffix. */
  claimant?: string;
  /** How long a claim holds an outbox row; by default the send's timeout and 30 s. */
  claimMs?: number;
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
  /** The alert's state in the alert store (app/notifications.ts), checked before a reminder or escalation. */
  alertStateOf?: NotifierDeps['alertStateOf'];
}

/** Past the send's own timeout, before a claim is taken to be a dead or hung worker's. */
const CLAIM_MARGIN_MS = 30_000;

export type NotificationService = ReturnType<typeof createNotificationService>;

/**
 * Everything notifications need, wired: the notifier (alert transitions → outbox) and
 * the worker (outbox → channels) on their own timers. app.ts subscribes `onTransition` to
 * the alert lifecycle and hands `outbox` and `silences` to the API routes.
 */
export function createNotificationService(deps: NotificationDeps) {
  const logger = deps.logger.child({ module: 'notify' });
  const sql = deps.sql ?? sqliteSqlOf(deps.db);
  const outbox = createOutbox(sql);
  const silences = createSilenceStore(sql);
  const teams = createSqliteTeams(deps.db);
  for (const team of deps.config.teams) teams.upsert(team);
  const emailTeams = teams.list().filter((t) => [...t.channels, ...t.supervisorChannels].some((r) => r.channel.type === 'email')).map((t) => t.id);
  if (emailTeams.length > 0 && !deps.config.smtp) logger.warn({ teams: emailTeams }, 'email channels configured but no SMTP server (notify config `smtp`): their messages will fail');
  const metrics = createNotifyMetrics(deps.registry, () => outbox.backlog(deps.clock.now()));
  const senders = deps.send ? undefined : createChannelSenders({ smtp: deps.config.smtp, timeoutMs: deps.config.delivery.timeoutMs });
  const worker = createOutboxWorker({
    outbox, send: deps.send ?? senders!.send, clock: deps.clock, random: deps.random, logger, metrics, delivery: deps.config.delivery,
    claimant: deps.claimant ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    claimMs: deps.claimMs ?? deps.config.delivery.timeoutMs + CLAIM_MARGIN_MS,
  });
  const notifier = createNotifier({
    sql, teamsFor: combineTeams(deps.teamsFor, teams.teamsFor), silences, outbox, clock: deps.clock, config: deps.config, logger, metrics,
    describePlace: deps.describePlace ?? createSqlitePlaceNames(deps.db, logger), onQueued: () => worker.kick(), onNotified: deps.onNotified,
    ...(deps.ackLink ? { ackLink: deps.ackLink } : {}),
    ...(deps.alertStateOf ? { alertStateOf: deps.alertStateOf } : {}),
  });
  return {
    /** The alert lifecycle calls this for every transition; it never throws and never waits (the bookkeeping is queued). */
    onTransition: notifier.onTransition,
    notifier,
    worker,
    outbox,
    silences,
    teams,
    metrics,
    async start(): Promise<void> {
      await worker.start();
      notifier.start();
    },
    async stop(): Promise<void> {
      await notifier.stop();
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
