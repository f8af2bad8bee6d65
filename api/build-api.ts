import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, hasZodFastifySchemaValidationErrors, jsonSchemaTransform, type ZodTypeProvider } from 'fastify-type-provider-zod';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../lib/metrics.ts';
import { CodedError } from '../lib/errors.ts';
import type { DeviceRegistry } from '../registry/devices.ts';
import type { DeadLetters } from '../ingest/dead-letters.ts';
import { createAccessControl, installAccessControl } from './auth.ts';
import { installScope } from './scope.ts';
import { installJsonBody, JSON_BODY_LIMITS } from './json-body.ts';
import { createScopeResolvers } from './scope-resolvers.ts';
import { healthRoutes, type ReadinessCheck } from './routes/health.ts';
import { deviceRoutes } from './routes/devices.ts';
import { deviceProfileRoutes } from './routes/device-profiles.ts';
import type { ProfileSet } from '../ingest/profile-set.ts';
import { deadLetterRoutes } from './routes/dead-letters.ts';
import { notificationRoutes, type NotificationRouteDeps } from './routes/notifications.ts';
import type { Health } from '../health/start.ts';
import { alertRoutes } from './routes/alerts.ts';
import { workOrderRoutes } from './routes/work-orders.ts';
import { facilityRoutes } from './routes/facilities.ts';
import { scorecardRoutes } from './routes/scorecard.ts';
import { zoneRoutes, type ForwardZoneAction } from './routes/zones.ts';
import type { IrrigationEngine } from '../irrigation/engine.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { serviceAccountRoutes } from './routes/service-accounts.ts';
import type { TokenStore } from '../registry/tokens.ts';
import type { ServiceAccounts } from '../registry/service-accounts.ts';
import type { DeviceLifecycle } from '../registry/device-lifecycle.ts';
import type { BucketLimits } from '../lib/token-bucket.ts';
import { inventoryRoutes } from './routes/inventory.ts';
import type { InventoryService } from '../inventory/service.ts';
import type { UserStore } from '../registry/users.ts';
import { principalOf } from '../registry/users.ts';
import { sessionRoutes } from './routes/session.ts';
import { ackLinkRoutes } from './routes/ack-link.ts';
import { photoRoutes } from './routes/photos.ts';
import { reportRoutes } from './routes/reports.ts';
import type { Db } from '../registry/db.ts';

export interface ApiDeps {
  logger: Logger;
  metrics: Metrics;
  adminToken: string;
  devices: DeviceRegistry;
  deadLetters: DeadLetters;
  /** The device profiles in force (GET /api/v1/device-profiles); routes absent when not given. */
  profiles?: ProfileSet;
  /** Irrigation: zone decisions and operator actions. */
  irrigation?: IrrigationEngine;
  /** Clustered: an action on a zone another node owns, forwarded to it (cluster/zone-forward.ts). */
  forwardZoneAction?: ForwardZoneAction;
  tokens: TokenStore;
  serviceAccounts: ServiceAccounts;
  lifecycle: DeviceLifecycle;
  /** Drop the live MQTT connections of a service account. */
  disconnectService: (accountId: string) => void;
  /** Failed API authentications allowed per client IP. */
  authFailureLimits: BucketLimits;
  now: () => number;
  /** Inventory import/export (PUT/GET /api/v1/inventory); routes absent when not given. */
  inventory?: InventoryService;
  /** Readiness probes: each answers whether its part can do its job now. */
  readiness: Record<string, ReadinessCheck>;
  /** Notification outbox and silences (notify/); routes are skipped when absent. */
  notifications?: NotificationRouteDeps;
  /** Alerts, work orders, facility calibration and the scorecard. */
  health?: Health;
  /** People who log in (session cookie); routes absent when not given. */
  users?: UserStore;
  /** The base URL people reach this server at (GS_PUBLIC_URL, else derived from the bound port). */
  publicUrl?: () => string;
  /** The key signed acknowledge links are checked with (lib/signed-link.ts); link routes absent when not given. */
  linkKey?: Buffer;
  /** Where work-order photos are kept ({dataDir}/photos); upload routes absent when not given. */
  photoDir?: string;
  /** Residents' reports (the registry's database for communities and places); routes absent when not given. */
  reports?: { db: Db; limits: BucketLimits };
  /**
   * The reverse proxies trusted to name the client in X-Forwarded-For (GS_TRUST_PROXY): then
   * `request.ip`, which the per-address budgets count, is that client. Unset: the peer's address.
   */
  trustProxy?: number | string[];
  /**
   * GS_POSTGRES_URL: resolves once this node's registry changes are in PostgreSQL. A
   * successful POST, PUT, PATCH or DELETE is answered only after it, so an acknowledged
   * change survives this node's death (app/registry-replica.ts).
   */
  registryShipped?: () => Promise<void>;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `eventual`: the route's answer does not depend on its registry change reaching PostgreSQL
     * (a login: the session works on this node at once and on the others once shipped), so a
     * PostgreSQL outage is logged, not answered 503. Default: the answer waits and fails with it.
     */
    registryShipping?: 'eventual';
  }
}

/** Every successful write waits for the registry's changes to reach PostgreSQL; 503 if they cannot. */
function installRegistryShipping(app: FastifyInstance, shipped: () => Promise<void>): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (!WRITES.has(request.method) || reply.statusCode >= 400) return payload;
    try {
      await shipped();
      return payload;
    } catch (error) {
      if (request.routeOptions.config.registryShipping === 'eventual') {
        request.log.warn({ err: error }, 'registry change saved on this node, shipped to PostgreSQL once it answers');
        return payload;
      }
      request.log.error({ err: error }, 'registry change saved on this node but not in PostgreSQL');
      reply.code(503).header('content-type', 'application/json; charset=utf-8');
      return JSON.stringify({
        error: 'registry_not_shared',
        message: '更改已保存在本节点，但尚未同步到 PostgreSQL，其他节点暂不可见；数据库恢复后会自动同步 / the change is saved on this node but not yet in PostgreSQL: the other nodes do not see it until PostgreSQL answers again (shipped then)',
      });
    }
  });
}

/**
 * Fastify's trustProxy for GS_TRUST_PROXY. A hop count becomes proxy-addr's (address, hop)
 * function: Fastify 5.12 reads a bare number as "trust nothing" because it cannot check the
 * peer; with a count the operator asserts that only the proxy can reach this port.
 */
function trustProxyOption(setting: number | string[] | undefined): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (setting === undefined) return false;
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return setting;
}

const STATUS_BY_CODE: Record<string, number> = { conflict: 409, not_found: 404, bad_request: 400, forbidden: 403 };

/** The HTTP API as an app factory: main.ts listens, tests use inject(). */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.logger.child({ module: 'api' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: JSON_BODY_LIMITS.maxBytes, trustProxy: trustProxyOption(deps.trustProxy) });
  installJsonBody(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((error, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      return reply.code(400).send({
        error: 'bad_request',
        message: `invalid ${error.validationContext ?? 'request'}`,
        issues: error.validation.map((v) => ({ path: v.instancePath.replace(/^\//, '').replaceAll('/', '.'), message: v.message })),
      });
    }
    if (error instanceof CodedError) {
      return reply.code(STATUS_BY_CODE[error.code] ?? 500).send({ error: error.code, message: error.message, ...(error.issues ? { issues: error.issues } : {}) });
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status < 500) return reply.code(status).send({ error: status === 413 ? 'too_large' : 'bad_request', message: (error as Error).message });
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  if (deps.registryShipped) installRegistryShipping(app, deps.registryShipped);

  // Before any route (and before swagger reads them): moves guards first and documents roles.
  installAccessControl(app, createAccessControl({
    adminToken: deps.adminToken,
    resolveToken: (token) => deps.tokens.resolve(token),
    ...(deps.users ? { resolveSession: sessionResolver(deps.users) } : {}),
    now: deps.now,
    failureLimits: deps.authFailureLimits,
    countFailure: (reason) => deps.metrics.apiAuthFailures.inc({ reason }),
  }));
  // After the access control (the guard settles the principal) and before any route: every
  // route declares what it touches and is held to the caller's districts (api/scope.ts).
  installScope(app, createScopeResolvers(deps));

  await app.register(swagger, {
    openapi: {
      info: { title: 'Greenspace monitoring API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const typed = app.withTypeProvider<ZodTypeProvider>();
  await typed.register(healthRoutes, { metrics: deps.metrics, readiness: deps.readiness });
  await typed.register(deviceRoutes, { prefix: '/api/v1', devices: deps.devices, lifecycle: deps.lifecycle });
  await typed.register(deadLetterRoutes, { prefix: '/api/v1', deadLetters: deps.deadLetters });
  if (deps.profiles) await typed.register(deviceProfileRoutes, { prefix: '/api/v1', profiles: deps.profiles });
  await typed.register(tokenRoutes, { prefix: '/api/v1', tokens: deps.tokens });
  await typed.register(serviceAccountRoutes, { prefix: '/api/v1', accounts: deps.serviceAccounts, disconnect: deps.disconnectService });
  // Each route carries its own guard (api/auth.ts `allow.*`); api/policy.ts states who may do what.
  if (deps.notifications) await typed.register(notificationRoutes, { prefix: '/api/v1', ...deps.notifications });
  if (deps.health) {
    const h = deps.health;
    await typed.register(alertRoutes, { prefix: '/api/v1', alerts: h.alerts, workOrders: h.workOrders });
    await typed.register(workOrderRoutes, { prefix: '/api/v1', workOrders: h.workOrders });
    await typed.register(facilityRoutes, { prefix: '/api/v1', baselines: h.baselines, monitor: h.monitor, thresholds: h.facilityThresholds });
    // Each zone against the band irrigation waters it to now, an operator's override included.
    const zoneBand = deps.irrigation?.bandOf;
    await typed.register(scorecardRoutes, { prefix: '/api/v1', build: (month) => h.scorecard(month, zoneBand) });
    if (deps.photoDir) await typed.register(photoRoutes, { prefix: '/api/v1', workOrders: h.workOrders, dir: deps.photoDir });
    if (deps.reports && deps.linkKey && deps.photoDir) {
      await typed.register(reportRoutes, { prefix: '/api/v1', db: deps.reports.db, alerts: h.alerts, workOrders: h.workOrders, key: deps.linkKey, photoDir: deps.photoDir, limits: deps.reports.limits, now: deps.now });
    }
    if (deps.linkKey) await typed.register(ackLinkRoutes, { prefix: '/api/v1', alerts: h.alerts, key: deps.linkKey, now: deps.now });
  }
  if (deps.irrigation) await typed.register(zoneRoutes, { prefix: '/api/v1', irrigation: deps.irrigation, forward: deps.forwardZoneAction });
  if (deps.inventory) await typed.register(inventoryRoutes, { prefix: '/api/v1', inventory: deps.inventory });
  if (deps.users) await typed.register(sessionRoutes, { prefix: '/api/v1', users: deps.users, secureCookie: deps.publicUrl?.().startsWith('https:') ?? false });
  return app;
}

const sessionResolver = (users: UserStore) => (id: string) => {
  const session = users.sessions.resolve(id);
  return session ? { principal: principalOf(session.user), csrf: session.csrf } : undefined;
};
