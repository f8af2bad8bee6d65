import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { allow } from '../auth.ts';
import { canAccessDistrict, districtsOf } from '../scope.ts';
import { ScorecardRow } from '../../assessment/score.ts';
import type { Scorecard } from '../../assessment/collect.ts';
import { scorecardToCsv } from '../../assessment/csv.ts';
import { scorecardToXlsx } from '../../assessment/xlsx.ts';
import { rankDistricts, type DistrictRow } from '../../assessment/columns.ts';
import { Month } from '../../contracts/month.ts';

const DistrictRank = z.object({ districtId: z.string(), communities: z.number().int(), scored: z.number().int(), meanScore: z.number().nullable(), rank: z.number().int() });
const Query = z.object({ month: Month });

export const scorecardRoutes: FastifyPluginAsyncZod<{ build(month: string): Promise<Scorecard> }> = async (app, opts) => {
  const security = [{ bearer: [] }];
  // The city's ranks stay as they are: a confined caller sees where its communities and its
  // districts stand in the city (ranked before the filter, so its one district is not "1st of 1").
  const build = async (request: FastifyRequest, month: string): Promise<{ card: Scorecard; districts: DistrictRow[] }> => {
    const card = await opts.build(month);
    const districts = rankDistricts(card.rows);
    // Asking districtsOf marks the answer scoped (a rendered CSV cannot be filtered later).
    if (!districtsOf(request)) return { card, districts };
    const visible = (district: string | null) => canAccessDistrict(request.principal, district);
    return { card: { ...card, rows: card.rows.filter((r) => visible(r.districtId)) }, districts: districts.filter((d) => visible(d.districtId)) };
  };
  app.get('/scorecard', {
    onRequest: allow.adminsOperatorsViewers,
    config: { scope: { list: 'scorecard-row', items: 'rows' } },
    schema: {
      summary: 'Monthly per-community scorecard and rank (formula: assessment/score.ts), and the districts ranked by their communities\' mean score', security, querystring: Query,
      response: { 200: z.object({ month: z.string(), from: z.number(), to: z.number(), rows: z.array(ScorecardRow), districts: z.array(DistrictRank) }) },
    },
  }, async (request) => {
    const { card, districts } = await build(request, request.query.month);
    return { ...card, districts };
  });

  app.get('/scorecard.csv', { onRequest: allow.adminsOperatorsViewers, config: { scope: { list: 'scorecard-row' } }, schema: { summary: 'The monthly scorecard as CSV', security, querystring: Query } },
    async (request, reply) => reply.type('text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="scorecard-${request.query.month}.csv"`)
      .send(scorecardToCsv((await build(request, request.query.month)).card)));

  app.get('/scorecard.xlsx', {
    onRequest: allow.adminsOperatorsViewers, config: { scope: { list: 'scorecard-row' } },
    schema: { summary: 'The monthly scorecard as an Excel workbook: the communities ranked, and the districts ranked by their mean score (headers Chinese first)', security, querystring: Query },
  }, async (request, reply) => {
    const { card, districts } = await build(request, request.query.month);
    return reply.type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .header('Content-Disposition', `attachment; filename="scorecard-${request.query.month}.xlsx"`)
      .send(await scorecardToXlsx(card, districts));
  });
};
