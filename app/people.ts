import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../registry/db.ts';
import { startPeople } from '../web/people.ts';
import { registerPages } from '../web/pages.ts';
import type { AlertService } from '../alerts/alert-service.ts';
import type { WorkOrderService } from '../alerts/work-orders/service.ts';
import type { AppContext } from './context.ts';

/**
 * The people's side (web/): users who log in, the key acknowledge links are signed with,
 * the public base URL. Started before notifications (they sign every link) and the API
 * (sessions, the pages, photos and residents' reports).
 */
export function startPeopleFeature(ctx: AppContext, deps: { db: Db; dataDir: string }) {
  const { config } = ctx;
  const people = startPeople({ db: deps.db, clock: ctx.clock, logger: ctx.logger, dataDir: deps.dataDir, publicUrl: config.publicUrl, httpPort: config.httpPort });
  return {
    people,
    /** What the API needs of the people's side (app/api.ts). */
    apiDeps: {
      users: people.users,
      publicUrl: people.publicUrl,
      linkKey: people.linkKey,
      photoDir: join(deps.dataDir, 'photos'),
      reports: { db: deps.db, limits: { burst: config.residentReportsPerHour, ratePerS: config.residentReportsPerHour / 3600 } },
    },
    /** The pages go on the API's instance before it listens. */
    pages: (api: FastifyInstance, services: { alerts: AlertService; workOrders: WorkOrderService }) => registerPages(api, { db: deps.db, ...services, grafanaUrl: config.grafanaUrl, publicUrl: people.publicUrl }),
    stop: (): void => undefined,
  };
}
