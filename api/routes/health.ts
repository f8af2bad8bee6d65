import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Metrics } from '../../lib/metrics.ts';

export const healthRoutes: FastifyPluginAsyncZod<{ metrics: Metrics; readiness: Record<string, () => Promise<boolean> | boolean> }> = async (app, opts) => {
  const probe = { scope: { global: 'probes and metrics describe the process, not a place' } } as const;
  app.get('/healthz', { config: probe, schema: { summary: 'Liveness: the process serves requests', response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }));

  app.get(
    '/readyz',
    {
      config: probe,
      schema: {
        summary: 'Readiness: InfluxDB reachable and the broker listening',
        response: { 200: z.object({ ready: z.boolean(), checks: z.record(z.string(), z.boolean()) }), 503: z.object({ ready: z.boolean(), checks: z.record(z.string(), z.boolean()) }) },
      },
    },
    async (_request, reply) => {
      const entries = await Promise.all(Object.entries(opts.readiness).map(async ([name, check]) => [name, await Promise.resolve(check()).catch(() => false)] as const));
      const checks = Object.fromEntries(entries);
      const ready = entries.every(([, okay]) => okay);
      return reply.code(ready ? 200 : 503).send({ ready, checks });
    },
  );

  app.get('/metrics', { config: probe, schema: { summary: 'Prometheus metrics', hide: false } }, async (_request, reply) => {
    const body = await opts.metrics.registry.metrics();
    return reply.type(opts.metrics.registry.contentType).send(body);
  });
};
