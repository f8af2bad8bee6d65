import { actorOf } from '../auth.ts';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { preHandlerAsyncHookHandler } from 'fastify';
import type { FacilityBaselines } from '../../alerts/facility-baselines.ts';
import type { HealthMonitor } from '../../alerts/health-monitor.ts';
import { CodedError } from '../../lib/errors.ts';

const ErrorBody = z.object({ error: z.string(), message: z.string() });
const angle = z.number().min(-180).max(180);

export const facilityRoutes: FastifyPluginAsyncZod<{ baselines: FacilityBaselines; monitor: HealthMonitor; requireAdmin: preHandlerAsyncHookHandler }> = async (app, opts) => {
  app.post('/facilities/:id/calibrate', {
    preHandler: opts.requireAdmin,
    schema: {
      summary: 'Set the tilt baseline: the given angles, or the latest reading (the facility as it stands now)',
      security: [{ bearer: [] }],
      params: z.object({ id: z.string() }),
      body: z.object({ pitch: angle.optional(), roll: angle.optional(), by: z.string().min(1).max(100).optional() })
        .refine((b) => (b.pitch === undefined) === (b.roll === undefined), { message: 'give both pitch and roll, or neither', path: ['roll'] })
        .nullish().transform((b) => b ?? {}),
      response: { 200: z.object({ facilityId: z.string(), baselinePitch: z.number(), baselineRoll: z.number(), by: z.string() }), 404: ErrorBody, 409: ErrorBody },
    },
  }, async (request) => {
    const { id } = request.params;
    if (!opts.baselines.get(id)) throw new CodedError('not_found', `no facility ${id}`);
    const given = request.body.pitch !== undefined && request.body.roll !== undefined ? { pitch: request.body.pitch, roll: request.body.roll } : undefined;
    const baseline = given ?? opts.monitor.lastAngles(id);
    if (!baseline) throw new CodedError('conflict', `facility ${id} has sent no tilt reading yet; give pitch and roll`);
    opts.baselines.save(id, baseline);
    opts.monitor.resetFacility(id);
    const by = actorOf(request, request.body.by);
    request.log.info({ facility: id, baseline, by }, 'facility calibrated');
    return { facilityId: id, baselinePitch: baseline.pitch, baselineRoll: baseline.roll, by };
  });
};
