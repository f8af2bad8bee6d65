import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { preHandlerAsyncHookHandler } from 'fastify';
import { DeadLetterQuery, type DeadLetters } from '../../ingest/dead-letters.ts';

export const deadLetterRoutes: FastifyPluginAsyncZod<{ deadLetters: DeadLetters; requireAdmin: preHandlerAsyncHookHandler }> = async (app, opts) => {
  app.get(
    '/dead-letters',
    {
      preHandler: opts.requireAdmin,
      schema: {
        summary: 'Refused messages, newest first, filtered by reason, device and time',
        security: [{ bearer: [] }],
        querystring: DeadLetterQuery,
        response: {
          200: z.array(z.object({ at: z.string(), reason: z.string(), detail: z.string(), device: z.string().nullable(), topic: z.string().nullable(), payload: z.string().nullable() })),
        },
      },
    },
    async (request) => opts.deadLetters.query(request.query),
  );
};
