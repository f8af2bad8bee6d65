import { createNotificationService } from '../notify/service.ts';
import { createAlertStore } from '../alerts/alert-store.ts';
import type { createCityRegistry } from '../registry/city.ts';
import type { Db } from '../registry/db.ts';
import type { Sql } from '../registry/sql/port.ts';
import type { AppContext } from './context.ts';

/**
 * Notifications: their own timers and outbox loop, never on the ingest path. Started
 * before health, whose alert lifecycle feeds it every transition, and after the shared state,
 * where their state lives (`sql`: PostgreSQL with GS_POSTGRES_URL, shared by the nodes).
 */
export async function startNotifications(ctx: AppContext, deps: { db: Db; sql: Sql; nodeId?: string | undefined; city: Pick<ReturnType<typeof createCityRegistry>, 'teamsFor'>; ackLink?: (alertId: number, recipient: string) => string }) {
  const notifications = createNotificationService({
    db: deps.db, sql: deps.sql, ...(deps.nodeId ? { claimant: deps.nodeId } : {}), config: ctx.notifyConfig, teamsFor: deps.city.teamsFor, clock: ctx.clock, random: Math.random, logger: ctx.logger, registry: ctx.metrics.registry,
    ...(deps.ackLink ? { ackLink: deps.ackLink } : {}),
    // The alerts live on the same port (`sql`): read in the notifier's transaction, under the alert's lock.
    alertStateOf: (q, alertId) => createAlertStore(q).stateOf(alertId),
  });
  await notifications.start();
  return {
    notifications,
    stop: (): Promise<void> => notifications.stop(),
  };
}
