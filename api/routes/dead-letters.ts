import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { allow } from '../auth.ts';
import { districtsOf } from '../scope.ts';
import { DeadLetterQuery, type DeadLetters } from '../../ingest/dead-letters.ts';

export const deadLetterRoutes: FastifyPluginAsyncZod<{ deadLetters: DeadLetters }> = async (app, opts) => {
  app.get(
    '/dead-letters',
    {
      onRequest: allow.adminsOperators,
      config: { scope: { list: 'dead-letter' } },
      schema: {
        summary: 'Refused messages, newest first, filtered by reason, device and time',
        security: [{ bearer: [] }],
        querystring: DeadLetterQuery,
        response: {
          200: z.array(z.object({ at: z.string(), reason: z.string(), detail: z.string(), device: z.string().nullable(), topic: z.string().nullable(), payload: z.string().nullable() })),
        },
      },
    },
    async (request) => opts.deadLetters.query(request.query, districtsOf(request)),
  );
};
