import type { Sql, SqlQueries, SqlTx } from '../registry/sql/port.ts';
import type { Logger } from '../lib/logger.ts';
import type { NotifyConfig } from './config.ts';
import type { TeamsFor } from './teams.ts';
import type { DescribePlace } from './places.ts';
import type { SilenceStore } from './silences.ts';
import { createOutbox, type NewOutboxRow } from './outbox.ts';
import type { NotifyMetrics } from './metrics.ts';
import { createTracker, type Audience, type Tracked } from './tracker.ts';
import { isGroupDue, routeAccepts, silencedBy, strongerReason, type NotifyReason } from './policy.ts';
import { ackUrl, renderMessage, type Entry } from './message.ts';

interface FlushDeps {
  sql: Sql;
  teamsFor: TeamsFor;
  silences: SilenceStore;
  config: NotifyConfig;
  logger: Logger;
  describePlace?: DescribePlace;
  metrics?: NotifyMetrics;
  /** The acknowledge link for an alert and a recipient (a signed one-tap link, app.ts); the config's ackBaseUrl form when absent. */
  ackLink?: (alertId: number, recipient: string) => string;
  /** False when the alert store has the alert acknowledged or resolved (notifier.ts). */
  stillFiring: (q: SqlQueries, alertId: number) => Promise<boolean>;
}

/**
 * Turns waiting items into outbox rows: one message per (team, audience) group once
 * its oldest item has waited the grouping window, then one row per channel route that
 * accepts at least one of its alerts by severity. Items of silenced alerts are held
 * until the silence ends or is deleted (tracker.ts `RELEASABLE`); items of alerts no longer
 * firing, in the tracker or already in the alert store (a transition not recorded yet), are dropped.
 *
 * Each group is flushed in one transaction that holds the group's lock and reads its items
 * after taking it, so when several nodes tick over one PostgreSQL the first takes the items
 * and the others find none: one message per group in the cluster. (A team answers for
 * communities that different nodes own, so the group cannot be given to one owner.)
 */
export function createGroupFlusher(deps: FlushDeps) {
  const { config, logger } = deps;
  const windowMs = config.groupWindowS * 1000;

  async function flushGroup(tx: SqlTx, teamId: string, audience: Audience, now: number): Promise<number> {
    await tx.lock(`gs:notify:group:${teamId}|${audience}`);
    const tracker = createTracker(tx);
    const silences = await deps.silences.active(now, tx);
    const chosen = new Map<number, { tracked: Tracked; reason: NotifyReason }>();
    const done: number[] = [];
    for (const item of await tracker.releasableItems(teamId, audience, now)) {
      const tracked = await tracker.get(item.alertId);
      if (!tracked || (item.reason !== 'resolved' && (tracked.state !== 'firing' || !await deps.stillFiring(tx, item.alertId)))) { done.push(item.id); continue; }
      const silence = silencedBy(silences, tracked.alert, now);
      if (silence) {
        await tracker.holdItem(item.id, silence.endsAt, silence.id);
        deps.metrics?.silenced.inc();
        continue;
      }
      done.push(item.id);
      const seen = chosen.get(item.alertId);
      chosen.set(item.alertId, { tracked, reason: seen ? strongerReason(seen.reason, item.reason) : item.reason });
    }
    await tracker.deleteItems(done);
    if (chosen.size === 0) return 0;

    const first = chosen.values().next().value!.tracked.alert;
    const team = first.communityId ? deps.teamsFor(first.communityId).find((t) => t.id === teamId) : undefined;
    if (!team) {
      logger.warn({ teamId, alerts: [...chosen.keys()] }, 'team no longer answers for these alerts; their notifications are dropped');
      return 0;
    }
    const entries: Entry[] = [...chosen.values()].map(({ tracked, reason }) => ({ alert: tracked.alert, reason, place: deps.describePlace?.(tracked.alert) ?? {} }));
    const rows: NewOutboxRow[] = [];
    const announced = new Set<number>();
    for (const route of audience === 'team' ? team.channels : team.supervisorChannels) {
      const accepted = entries.filter((e) => routeAccepts(route, e.alert.severity));
      if (accepted.length === 0) continue;
      const recipient = audience === 'team' ? teamId : `${teamId}:supervisor`;
      const linkOf = (alertId: number): string => deps.ackLink?.(alertId, recipient) ?? ackUrl(config.ackBaseUrl, alertId);
      const message = renderMessage(accepted, { now, teamName: team.name, audience, ackBaseUrl: config.ackBaseUrl, ackLink: linkOf, utcOffsetMinutes: config.utcOffsetMinutes });
      // A critical problem still open should ring the technicians' phones, not just sit in the group.
      const urgent = audience === 'team' && accepted.some((e) => e.alert.severity === 'critical' && e.reason !== 'resolved');
      const mentionMobiles = urgent ? team.technicians.flatMap((t) => (t.phone ? [t.phone] : [])) : [];
      rows.push({
        teamId, audience, channel: route.channel,
        payload: {
          message,
          alerts: accepted.map((e) => ({ reason: e.reason, ackUrl: linkOf(e.alert.id), alert: e.alert })),
          ...(mentionMobiles.length > 0 ? { mentionMobiles } : {}),
        },
      });
      for (const e of accepted) if (e.reason === 'firing') announced.add(e.alert.id);
    }
    await createOutbox(tx).enqueue(rows, now);
    for (const id of announced) await tracker.markAnnounced(id, now);
    return rows.length;
  }

  return {
    /** Flush every due group; returns how many outbox rows were queued. */
    async flushDue(now: number): Promise<number> {
      let queued = 0;
      for (const g of await createTracker(deps.sql).releasableGroups(now)) {
        if (!isGroupDue(g.oldest, now, windowMs)) continue;
        try {
          queued += await deps.sql.transaction((tx) => flushGroup(tx, g.teamId, g.audience, now));
        } catch (error) {
          logger.error({ err: error, teamId: g.teamId, audience: g.audience }, 'notification group flush failed');
        }
      }
      return queued;
    },
  };
}
