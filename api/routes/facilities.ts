import { actorOf, allow } from '../auth.ts';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FacilityBaselines, FacilityRow } from '../../health/facility-baselines.ts';
import type { HealthMonitor } from '../../health/monitor.ts';
import type { FacilityThresholdCache } from '../../health/facility-thresholds.ts';
import { CodedError } from '../../lib/errors.ts';

const ErrorBody = z.object({ error: z.string(), message: z.string() });
const angle = z.number().min(-180).max(180);

const Thresholds = z.object({
  facilityId: z.string(),
  type: z.string(),
  /** `facility`: the inventory's angles for this facility; `type`: its type's (GS_RULES_CONFIG, else the code's defaults). */
  source: z.enum(['facility', 'type']),
  warningDeg: z.number(),
  criticalDeg: z.number(),
  hysteresisDeg: z.number(),
  impactDeltaDeg: z.number(),
  shockG: z.number(),
  settlementDegPerDay: z.number(),
  baseline: z.object({ pitch: z.number(), roll: z.number() }).nullable(),
});

const FacilityView = z.object({
  facilityId: z.string(), name: z.string(), type: z.string(), communityId: z.string(), districtId: z.string(),
  /** The latest reading's angles; null until one arrives after a start. */
  current: z.object({ pitch: z.number(), roll: z.number() }).nullable(),
  /** Degrees between the current angles and the baseline; null without either. */
  tiltDeg: z.number().nullable(),
  thresholds: Thresholds,
});

export const facilityRoutes: FastifyPluginAsyncZod<{ baselines: FacilityBaselines; monitor: HealthMonitor; thresholds: FacilityThresholdCache }> = async (app, opts) => {
  // Outside the caller's districts the scope check (config.scope) answers 404 first.
  const facilityFor = (id: string) => {
    const row = opts.baselines.get(id);
    if (!row) throw new CodedError('not_found', `no facility ${id}`);
    return row;
  };

  const thresholdsOf = (row: FacilityRow): z.infer<typeof Thresholds> => {
    const t = opts.thresholds.of(row.id, row.type);
    return {
      facilityId: row.id, type: row.type, source: opts.thresholds.sourceOf(row.id),
      warningDeg: t.warningDeg, criticalDeg: t.criticalDeg, hysteresisDeg: t.hysteresisDeg, impactDeltaDeg: t.impactDeltaDeg, shockG: t.shockG, settlementDegPerDay: t.settlementDegPerDay,
      baseline: row.baselinePitch !== null && row.baselineRoll !== null ? { pitch: row.baselinePitch, roll: row.baselineRoll } : null,
    };
  };
  const readers = { onRequest: allow.adminsOperatorsTechniciansViewers, config: { scope: { object: 'facility' } } } as const;

  app.get('/facilities/:id', {
    ...readers,
    schema: {
      summary: 'A facility as it stands: its latest angles (since the app started), its tilt from the baseline, the baseline and the thresholds it is judged by',
      security: [{ bearer: [] }],
      params: z.object({ id: z.string() }),
      response: { 200: FacilityView, 404: ErrorBody },
    },
  }, async (request) => {
    const row = facilityFor(request.params.id);
    const thresholds = thresholdsOf(row);
    const current = opts.monitor.lastAngles(row.id) ?? null;
    // The rules' measure (rules/facility-health/decide-facility.ts): the angle between now and the baseline.
    const tiltDeg = current && thresholds.baseline ? Math.round(100 * Math.hypot(current.pitch - thresholds.baseline.pitch, current.roll - thresholds.baseline.roll)) / 100 : null;
    return { facilityId: row.id, name: row.name, type: row.type, communityId: row.communityId, districtId: row.districtId, current, tiltDeg, thresholds };
  });

  app.get('/facilities/:id/thresholds', {
    ...readers,
    schema: {
      summary: 'The tilt thresholds the rules judge this facility by now, and where they come from',
      security: [{ bearer: [] }],
      params: z.object({ id: z.string() }),
      response: { 200: Thresholds, 404: ErrorBody },
    },
  }, async (request) => thresholdsOf(facilityFor(request.params.id)));

  app.post('/facilities/:id/calibrate', {
    onRequest: allow.adminsOperatorsTechnicians,
    config: { scope: { object: 'facility' } },
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
    facilityFor(id);
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
