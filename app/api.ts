import { buildApi, type ApiDeps } from '../api/build-api.ts';
import { createDeviceLifecycle } from '../registry/device-lifecycle.ts';
import type { Db } from '../registry/db.ts';
import type { CredentialHasher } from '../registry/secrets.ts';
import type { MqttBroker } from '../broker/create-broker.ts';
import type { AppContext } from './context.ts';
import type { FastifyInstance } from 'fastify';

export type ApiFeatureDeps = Omit<ApiDeps, 'logger' | 'metrics' | 'lifecycle' | 'disconnectService' | 'authFailureLimits' | 'now' | 'trustProxy'> & {
  db: Db;
  /** The data directory's credential hasher: a rotated device secret is stored keyed. */
  hasher: CredentialHasher;
  broker: Pick<MqttBroker, 'disconnectDevice' | 'disconnectService'>;
  /** Routes added to the API's instance before it listens (the people's pages, app/people.ts). */
  beforeListen?: (api: FastifyInstance) => void;
};

/** The HTTP API (and /metrics, /healthz, /readyz, the OpenAPI document), listening on GS_HTTP_PORT. */
export async function startApiFeature(ctx: AppContext, deps: ApiFeatureDeps) {
  const { config, logger, metrics, clock } = ctx;
  const { db, broker, beforeListen, hasher, ...rest } = deps;
  const api = await buildApi({
    ...rest,
    logger,
    metrics,
    lifecycle: createDeviceLifecycle(db, { devices: deps.devices, hasher, disconnect: (id) => broker.disconnectDevice(id) }),
    disconnectService: (id) => broker.disconnectService(id),
    authFailureLimits: { burst: config.apiAuthFailureBurst, ratePerS: config.apiAuthFailuresPerMin / 60 },
    now: () => clock.now(),
    ...(config.trustProxy !== undefined ? { trustProxy: config.trustProxy } : {}),
  });
  beforeListen?.(api);
  await api.listen({ port: config.httpPort, host: config.httpHost });
  const port = (api.server.address() as { port: number }).port;
  const host = ['0.0.0.0', '::'].includes(config.httpHost) ? '127.0.0.1' : config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost;
  return {
    api,
    port,
    /** Where a local client reaches the API (the data-dir lock tells the CLI). */
    url: `http://${host}:${port}`,
    stop: (): Promise<void> => api.close(),
  };
}
