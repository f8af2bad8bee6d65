import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, hasZodFastifySchemaValidationErrors, jsonSchemaTransform, type ZodTypeProvider } from 'fastify-type-provider-zod';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from '../lib/logger.ts';
import type { Metrics } from '../lib/metrics.ts';
import { CodedError } from '../lib/errors.ts';
import type { DeviceRegistry } from '../registry/devices.ts';
import type { DeadLetters } from '../ingest/dead-letters.ts';
import { createAdminGuard } from './auth.ts';
import { healthRoutes } from './routes/health.ts';
import { deviceRoutes } from './routes/devices.ts';
import { deadLetterRoutes } from './routes/dead-letters.ts';
import { inventoryRoutes } from './routes/inventory.ts';
import type { InventoryService } from '../inventory/service.ts';

export interface ApiDeps {
  logger: Logger;
  metrics: Metrics;
  adminToken: string;
  devices: DeviceRegistry;
  deadLetters: DeadLetters;
  /** Inventory import/export (PUT/GET /api/v1/inventory); routes absent when not given. */
  inventory?: InventoryService;
  /** Readiness probes: each answers whether its part can do its job now. */
  readiness: Record<string, () => Promise<boolean> | boolean>;
}

const STATUS_BY_CODE: Record<string, number> = { conflict: 409, not_found: 404, bad_request: 400 };

/** The HTTP API as an app factory: main.ts listens, tests use inject(). */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.logger.child({ module: 'api' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 10 * 1024 * 1024 });
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
    if (error instanceof CodedError) return reply.code(STATUS_BY_CODE[error.code] ?? 500).send({ error: error.code, message: error.message });
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status < 500) return reply.code(status).send({ error: 'bad_request', message: (error as Error).message });
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Greenspace monitoring API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const typed = app.withTypeProvider<ZodTypeProvider>();
  const requireAdmin = createAdminGuard(deps.adminToken);
  await typed.register(healthRoutes, { metrics: deps.metrics, readiness: deps.readiness });
  await typed.register(deviceRoutes, { prefix: '/api/v1', devices: deps.devices, requireAdmin });
  await typed.register(deadLetterRoutes, { prefix: '/api/v1', deadLetters: deps.deadLetters, requireAdmin });
  if (deps.inventory) await typed.register(inventoryRoutes, { prefix: '/api/v1', inventory: deps.inventory, requireAdmin });
  return app;
}
