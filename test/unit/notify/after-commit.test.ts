import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../registry/db.ts';
import { sqliteSqlOf } from '../../../registry/sql/sqlite.ts';
import { createManualClock } from '../../../lib/clock.ts';
import { createLogger } from '../../../lib/logger.ts';
import { createRandom } from '../../../lib/random.ts';
import { ok } from '../../../lib/result.ts';
import { createAlertService } from '../../../alerts/alert-service.ts';
import { NotifyConfig } from '../../../notify/config.ts';
import { createNotificationService } from '../../../notify/service.ts';
import { staticTeams } from '../../../notify/teams.ts';
import { Team } from '../../../contracts/team.ts';
import type { Delivery } from '../../../notify/channels/index.ts';

const T0 = Date.UTC(2026, 10, 26, 2);
const TEAM = Team.parse({ id: 'team-a', name: '养护一队', communities: ['c-001'], channels: [{ channel: { type: 'wecom', key: 'k' }, minSeverity: 'info' }] });

/*
 * The alert service tells its listeners after its transaction commits; on SQLite the next
 * queued port transaction may already have begun by then. The notifier's bookkeeping of the
 * first alert must not be inside that transaction, or it is rolled back with it.
 */
describe('the notifier hearing an alert while the next alert transaction is open (SQLite)', () => {
  it('keeps what it recorded for a raise when the acknowledge queued behind it fails and rolls back', async () => {
    const db = openDb(':memory:');
    const clock = createManualClock(T0);
    const logger = createLogger('silent');
    const alerts = createAlertService({ sql: sqliteSqlOf(db), clock, logger });
    const sent: Delivery[] = [];
    const notify = createNotificationService({
      db, clock, logger, random: createRandom(1), registry: new Registry(), teamsFor: staticTeams([TEAM]),
      config: NotifyConfig.parse({ groupWindowS: 30, reminderIntervalS: { warning: 0, critical: 0 }, escalateAfterS: { warning: 0, critical: 0 } }),
      send: async (_channel, delivery) => { sent.push(delivery); return ok(undefined); },
    });
    alerts.onTransition((t) => notify.onTransition(t));
    const raised = alerts.apply({ action: 'raise', kind: 'facility_tilt', subject: 'pav-1', severity: 'warning', message: '倾斜 9°', communityId: 'c-001', districtId: 'd-1', at: T0 });
    const refused = alerts.acknowledge(999, { by: 'wang' }); // no such alert: its transaction rolls back
    await expect(refused).rejects.toThrow(/no alert 999/);
    const alert = (await raised)!;
    clock.advance(31_000);
    await notify.notifier.tick();
    await notify.worker.tick();
    expect(sent.flatMap((d) => d.alerts.map((a) => [a.alert.id, a.reason]))).toEqual([[alert.id, 'firing']]);
    db.close();
  });
});
