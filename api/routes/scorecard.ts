import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { preHandlerAsyncHookHandler } from 'fastify';
import { ScorecardRow } from '../../assessment/score.ts';
import type { Scorecard } from '../../assessment/collect.ts';
import { scorecardToCsv } from '../../assessment/csv.ts';

const Query = z.object({ month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected YYYY-MM') });

export const scorecardRoutes: FastifyPluginAsyncZod<{ build(month: string): Promise<Scorecard>; requireAdmin: preHandlerAsyncHookHandler }> = async (app, opts) => {
  const security = [{ bearer: [] }];
  app.get('/scorecard', {
    preHandler: opts.requireAdmin,
    schema: {
      summary: 'Monthly per-community scorecard and rank (formula: assessment/score.ts)', security, querystring: Query,
      response: { 200: z.object({ month: z.string(), from: z.number(), to: z.number(), rows: z.array(ScorecardRow) }) },
    },
  }, async (request) => opts.build(request.query.month));

  app.get('/scorecard.csv', { preHandler: opts.requireAdmin, schema: { summary: 'The monthly scorecard as CSV', security, querystring: Query } },
    async (request, reply) => reply.type('text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="scorecard-${request.query.month}.csv"`)
      .send(scorecardToCsv(await opts.build(request.query.month))));
};
