import { Registry } from 'prom-client';
import { openDb, type Db } from '../../../registry/db.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createRandom } from '../../../lib/random.ts';
import { ok, err } from '../../../lib/result.ts';
import { NotifyConfig, type NotifyConfigInput } from '../../../notify/config.ts';
import { createNotificationService } from '../../../notify/service.ts';
import { staticTeams } from '../../../notify/teams.ts';
import type { Delivery } from '../../../notify/channels/index.ts';
import type { Alert, AlertTransition } from '../../../contracts/alert.ts';
import type { Sql, SqlEngine } from '../../../registry/sql/port.ts';
import { useSqlDatabases } from '../../helpers/sql-engines.ts';
import { createAlertStore } from '../../../alerts/alert-store.ts';
import { Team, type Channel } from '../../../contracts/team.ts';

/** 2026-11-26 10:00 local (UTC+8). */
export const T0 = Date.parse('2026-11-26T02:00:00Z');
export const S = 1_000;

export const TEAMS: Team[] = [
  Team.parse({
    id: 'team-a', name: '养护一队', communities: ['c-001', 'c-002'],
    channels: [{ channel: { type: 'wecom', key: 'a-wecom' }, minSeverity: 'warning' }, { channel: { type: 'dingtalk', accessToken: 'a-ding' }, minSeverity: 'critical' }],
    supervisorChannels: [{ channel: { type: 'email', to: ['boss@example.com'] }, minSeverity: 'warning' }],
    technicians: [{ id: 'tech-1', name: '王师傅', phone: '13800000001' }, { id: 'tech-2', name: '李师傅' }],
  }),
  Team.parse({ id: 'team-b', name: '巡检二队', communities: ['c-001'], channels: [{ channel: { type: 'webhook', url: 'http://127.0.0.1:9/hook' }, minSeverity: 'info' }] }),
];

export const alertOf = (id: number, over: Partial<Alert> = {}): Alert => ({
  id, kind: 'facility_tilt', subject: `pav-${id}`, severity: 'warning', state: 'firing', message: '倾斜 12.0°，超过警告阈值 8°',
  communityId: 'c-001', districtId: 'd-1', firstFiredAt: T0, lastChangedAt: T0, acknowledgedBy: null, details: null, ...over,
});

export interface Sent { channel: Channel; delivery: Delivery }

export interface HarnessOptions { teams?: Team[]; db?: Db; sql?: Sql; failing?: (c: Channel) => boolean }

/**
 * The notification service over a real database (in-memory SQLite unless `sql` is given: a
 * PostgreSQL port, test/helpers/sql-engines.ts), a manual clock and a recording sender.
 */
export function createHarness(overrides: NotifyConfigInput = {}, options: HarnessOptions = {}) {
  const db = options.db ?? openDb(':memory:');
  const clock = createManualClock(T0);
  const registry = new Registry();
  const sent: Sent[] = [];
  const notified: AlertTransition[] = [];
  const config = NotifyConfig.parse({ groupWindowS: 30, reminderIntervalS: { warning: 0, critical: 0 }, escalateAfterS: { warning: 0, critical: 0 }, ...overrides });
  const service = createNotificationService({
    db, ...(options.sql ? { sql: options.sql } : {}), config, clock, random: createRandom(7), logger: createLogger('silent'), registry,
    teamsFor: staticTeams(options.teams ?? TEAMS),
    send: async (channel, delivery) => {
      if (options.failing?.(channel)) return err('HTTP 503: down');
      sent.push({ channel, delivery });
      return ok(undefined);
    },
    onNotified: (t) => notified.push(t),
    alertStateOf: (q, id) => createAlertStore(q).stateOf(id),
  });
  return {
    db, sql: options.sql, clock, registry, service, sent, notified, config,
    fire: (alert: Alert) => service.onTransition({ alert, from: undefined, to: 'firing', at: clock.now() }),
    ack: (alert: Alert, by = 'tech-1') => service.onTransition({ alert: { ...alert, state: 'acknowledged', acknowledgedBy: by, lastChangedAt: clock.now() }, from: 'firing', to: 'acknowledged', at: clock.now(), by, note: '已到场' }),
    resolve: (alert: Alert) => service.onTransition({ alert: { ...alert, state: 'resolved', lastChangedAt: clock.now() }, from: 'firing', to: 'resolved', at: clock.now() }),
    /** Move time, run the notifier's tick and one round of deliveries. */
    async advance(ms: number): Promise<void> {
      clock.advance(ms);
      await service.notifier.tick();
      await service.worker.tick();
    },
    /** Step through `totalMs` in `stepMs` increments, ticking each time (what the timers would do). */
    async run(totalMs: number, stepMs = 10 * S): Promise<void> {
      for (let t = 0; t < totalMs; t += stepMs) await this.advance(Math.min(stepMs, totalMs - t));
    },
    sentTo: (type: Channel['type']) => sent.filter((s) => s.channel.type === type),
    clear: () => { sent.length = 0; },
  };
}


/** Harnesses on an empty database of `engine` each (inside a `describe.each(SQL_ENGINES)` block). */
export function useHarnesses(engine: SqlEngine) {
  const databases = useSqlDatabases(engine);
  /** A harness on a new database, or on `options.db` and `options.sql` (another service over the same one: a restart). */
  return async (overrides: NotifyConfigInput = {}, options: HarnessOptions = {}) => {
    const { sql, db } = options.db ? { db: options.db, sql: options.sql } : await databases.database();
    return createHarness(overrides, { ...options, db, ...(sql ? { sql } : {}) });
  };
}
