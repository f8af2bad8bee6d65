import type { Db } from '../registry/db.ts';
import type { Logger } from '../lib/logger.ts';
import type { NotifyConfig } from './config.ts';
import type { TeamsFor } from './teams.ts';
import type { DescribePlace } from './places.ts';
import type { SilenceStore } from './silences.ts';
import type { NewOutboxRow, Outbox } from './outbox.ts';
import type { NotifyMetrics } from './metrics.ts';
import type { Audience, Tracker, Tracked } from './tracker.ts';
import { isGroupDue, routeAccepts, silencedBy, strongerReason, type NotifyReason } from './policy.ts';
import { ackUrl, renderMessage, type Entry } from './message.ts';

interface FlushDeps {
  db: Db;
  tracker: Tracker;
  teamsFor: TeamsFor;
  silences: SilenceStore;
  outbox: Outbox;
  config: NotifyConfig;
  logger: Logger;
  describePlace?: DescribePlace;
  metrics?: NotifyMetrics;
  /** The acknowledge link for an alert and a recipient (a signed one-tap link, app.ts); the config's ackBaseUrl form when absent. */
  ackLink?: (alertId: number, recipient: string) => string;
}

/**
 * Turns waiting items into outbox rows: one message per (team, audience) group once
 * its oldest item has waited the grouping window, then one row per channel route that
 * accepts at least one of its alerts by severity. Items of silenced alerts are held
 * until the silence ends; items of alerts no longer firing are dropped.
 */
export function createGroupFlusher(deps: FlushDeps) {
  const { tracker, config, logger } = deps;
  const windowMs = config.groupWindowS * 1000;

  function flushGroup(teamId: string, audience: Audience, now: number): number {
    const silences = deps.silences.active(now);
    const chosen = new Map<number, { tracked: Tracked; reason: NotifyReason }>();
    const done: number[] = [];
    for (const item of tracker.releasableItems(teamId, audience, now)) {
      const tracked = tracker.get(item.alertId);
      if (!tracked || (item.reason !== 'resolved' && tracked.state !== 'firing')) { done.push(item.id); continue; }
      const silence = silencedBy(silences, tracked.alert, now);
      if (silence) {
        tracker.holdItem(item.id, silence.endsAt, silence.id);
        deps.metrics?.silenced.inc();
        continue;
      }
      done.push(item.id);
      const seen = chosen.get(item.alertId);
      chosen.set(item.alertId, { tracked, reason: seen ? strongerReason(seen.reason, item.reason) : item.reason });
    }
    tracker.deleteItems(done);
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
    deps.outbox.enqueue(rows, now);
    for (const id of announced) tracker.markAnnounced(id, now);
    return rows.length;
  }

  return {
    /** Flush every due group; returns how many outbox rows were queued. */
    flushDue(now: number): number {
      let queued = 0;
      for (const g of tracker.releasableGroups(now)) {
        if (!isGroupDue(g.oldest, now, windowMs)) continue;
        try {
          queued += deps.db.transaction(() => flushGroup(g.teamId, g.audience, now))();
        } catch (error) {
          logger.error({ err: error, teamId: g.teamId, audience: g.audience }, 'notification group flush failed');
        }
      }
      return queued;
    },
  };
}
