import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Metrics } from '../../lib/metrics.ts';

/** One readiness check: ready or not, or not ready with the reason an operator needs. */
export type ReadinessCheck = () => Promise<boolean> | boolean | { ready: false; reason: string };

const Readiness = z.object({
  ready: z.boolean(),
  checks: z.record(z.string(), z.boolean()),
  /** Why a check is not ready, where it says. */
  reasons: z.record(z.string(), z.string()).optional(),
});

export const healthRoutes: FastifyPluginAsyncZod<{ metrics: Metrics; readiness: Record<string, ReadinessCheck> }> = async (app, opts) => {
  const probe = { scope: { global: 'probes and metrics describe the process, not a place' } } as const;
  app.get('/healthz', { config: probe, schema: { summary: 'Liveness: the process serves requests', response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }));

  app.get(
    '/readyz',
    {
      config: probe,
      schema: {
        summary: 'Readiness: InfluxDB reachable, the broker listening, the durable log keeping readings',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const entries = await Promise.all(Object.entries(opts.readiness).map(async ([name, check]) => [name, await Promise.resolve(check()).catch(() => false)] as const));
      const checks = Object.fromEntries(entries.map(([name, result]) => [name, result === true]));
      const reasons = Object.fromEntries(entries.flatMap(([name, result]) => (typeof result === 'object' ? [[name, result.reason]] : [])));
      const ready = entries.every(([, result]) => result === true);
      return reply.code(ready ? 200 : 503).send({ ready, checks, ...(Object.keys(reasons).length > 0 ? { reasons } : {}) });
    },
  );

  app.get('/metrics', { config: probe, schema: { summary: 'Prometheus metrics', hide: false } }, async (_request, reply) => {
    const body = await opts.metrics.registry.metrics();
    return reply.type(opts.metrics.registry.contentType).send(body);
  });
};
