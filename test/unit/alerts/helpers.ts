import { openDb, type Db } from '../../../registry/db.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createAlertService } from '../../../alerts/alert-service.ts';
import { createWorkOrderService } from '../../../alerts/work-orders/service.ts';
import type { AlertSignal, AlertTransition } from '../../../contracts/alert.ts';

export const T0 = Date.UTC(2026, 9, 1, 2); // 2026-10-01 10:00 in UTC+8
export const MIN = 60_000;
export const HOUR = 60 * MIN;

/** An alert service and a ledger over a real SQLite database (in memory unless a path is given). */
export function createLedger(path = ':memory:', db: Db = openDb(path)) {
  const clock = createManualClock(T0);
  const logger = createLogger('silent');
  const alerts = createAlertService({ db, clock, logger });
  const workOrders = createWorkOrderService({ db, clock, alerts });
  const transitions: AlertTransition[] = [];
  alerts.onTransition((t) => transitions.push(t));
  return { db, clock, alerts, workOrders, transitions };
}

export const raise = (kind: AlertSignal['kind'], subject: string, severity: 'info' | 'warning' | 'critical' = 'warning', message = `${kind} on ${subject}`): Extract<AlertSignal, { action: 'raise' }> =>
  ({ action: 'raise', kind, subject, severity, message, communityId: 'c-1', districtId: 'd-1', at: T0 });
export const clear = (kind: AlertSignal['kind'], subject: string): AlertSignal => ({ action: 'clear', kind, subject, at: T0, reason: 'back to normal' });
