import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Db } from '../../registry/db.ts';
import type { AlertService } from '../../alerts/alert-service.ts';
import type { WorkOrderService } from '../../alerts/work-orders/service.ts';
import { ResidentReport, REPORT_CATEGORIES, ReportReference } from '../../contracts/report.ts';
import { checkReportReference, reportReference } from '../../lib/signed-link.ts';
import { createKeyedBuckets, type BucketLimits } from '../../lib/token-bucket.ts';
import { CodedError } from '../../lib/errors.ts';
import { MAX_PHOTO_BYTES, photoKind } from './photos.ts';

const ErrorBody = z.object({ error: z.string(), message: z.string() });
const ReportState = z.object({ reference: z.string(), state: z.enum(['received', 'in_progress', 'fixed', 'closed']), receivedAt: z.number(), category: z.string() });
const CATEGORY_LABEL: Record<(typeof REPORT_CATEGORIES)[number], string> = {
  facility_damaged: '设施损坏', green_space_destroyed: '毁绿/占绿（挖掉、种菜）', watering_problem: '浇水问题', other: '其他',
};

export interface ReportRouteOptions {
  db: Db;
  alerts: AlertService;
  workOrders: WorkOrderService;
  key: Buffer;
  photoDir: string;
  limits: BucketLimits;
  now: () => number;
}

/**
 * Residents report without a login from their community's page (web/pages.ts, reached by
 * the QR code on the notice board). A report becomes a ledger entry for the community's
 * team: a `resident_report` alert (notified to the teams answering for the community) with
 * its work order. A report about the same place and category while one is open adds to it
 * (counted, the latest kept beside the first: alerts/occurrences.ts) instead of opening a
 * second. Rate-limited per address, size-limited (text 1,000 characters, one photo of at
 * most 10 MB). The resident gets a reference that shows the state and nothing else.
 */
export const reportRoutes: FastifyPluginAsyncZod<ReportRouteOptions> = async (app, opts) => {
  await app.register(multipart, { limits: { fileSize: MAX_PHOTO_BYTES, files: 1, fields: 5, parts: 6, fieldSize: 4000 } });
  const buckets = createKeyedBuckets(opts.limits, opts.now, 50_000);
  const community = opts.db.prepare('SELECT c.id, c.name, c.district_id FROM communities c WHERE c.id = ?');
  const placeIn = opts.db.prepare('SELECT id, name FROM facilities WHERE id = @place AND community_id = @community UNION SELECT id, name FROM zones WHERE id = @place AND community_id = @community');
  const config = { scope: { global: 'public: a resident reports about a community; no caller to confine' } } as const;

  app.post('/communities/:id/reports', {
    config,
    schema: {
      summary: 'A resident reports a problem in a community (no login; JSON or multipart with an optional `photo`); becomes a ledger entry for its team; returns a reference',
      tags: ['reports'], params: z.object({ id: z.string().max(100) }),
      response: { 201: z.object({ reference: z.string() }), 400: ErrorBody, 404: ErrorBody, 413: ErrorBody, 429: ErrorBody },
    },
  }, async (request, reply) => {
    const take = buckets.take(request.ip);
    if (!take.ok) return reply.code(429).header('Retry-After', String(Math.ceil(take.retryAfterMs / 1000))).send({ error: 'rate_limited', message: 'too many reports from this address; try again later' });
    const c = community.get(request.params.id) as { id: string; name: string; district_id: string } | undefined;
    if (!c) throw new CodedError('not_found', `no community ${request.params.id}`);
    let fields: Record<string, unknown> = {};
    let photo: Buffer | undefined;
    if (request.isMultipart()) {
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          const bytes = await part.toBuffer().catch((error: unknown) => {
            if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw Object.assign(new Error('a photo is at most 10 MB'), { statusCode: 413 });
            throw error;
          });
          if (bytes.length > 0) photo = bytes;
        } else if (typeof part.value === 'string' && part.value !== '') fields[part.fieldname] = part.value;
      }
    } else fields = (request.body ?? {}) as Record<string, unknown>;
    const parsed = ResidentReport.safeParse(fields);
    if (!parsed.success) throw new CodedError('bad_request', parsed.error.issues.map((i) => `${i.path.join('.') || 'report'}: ${i.message}`).join('; '));
    const report = parsed.data;
    const place = report.place ? (placeIn.get({ place: report.place, community: c.id }) as { id: string; name: string } | undefined) : undefined;
    if (report.place && !place) throw new CodedError('bad_request', `no place ${report.place} in community ${c.id}`);
    let photoPath: string | undefined;
    if (photo) {
      const kind = photoKind(photo);
      if (!kind) throw new CodedError('bad_request', 'only JPEG, PNG or WebP photos are kept');
      photoPath = join('reports', `${randomBytes(12).toString('hex')}.${kind.ext}`);
      mkdirSync(join(opts.photoDir, 'reports'), { recursive: true });
      writeFileSync(join(opts.photoDir, photoPath), photo, { mode: 0o640 });
    }
    const alert = (await opts.alerts.apply({
      action: 'raise', kind: 'resident_report', severity: 'warning',
      // One open entry per place and category: a second report of the same thing adds to it.
      subject: `${place?.id ?? c.id}#${report.category}`,
      message: `居民举报·${CATEGORY_LABEL[report.category]}：${place ? `${place.name}，` : ''}${report.text}`,
      communityId: c.id, districtId: c.district_id, at: opts.now(),
      details: { category: report.category, text: report.text, ...(place ? { place: place.id } : {}), ...(photoPath ? { photo: photoPath } : {}) },
    }))!;
    return reply.code(201).send({ reference: reportReference(opts.key, alert.id) });
  });

  app.get('/reports/:reference', {
    config,
    schema: { summary: 'The state of a resident\'s report by its reference (no login; nothing but the state)', tags: ['reports'], params: z.object({ reference: ReportReference }), response: { 200: ReportState, 404: ErrorBody } },
  }, async (request) => {
    const id = checkReportReference(opts.key, request.params.reference);
    const alert = id === undefined ? undefined : await opts.alerts.get(id);
    if (!alert || alert.kind !== 'resident_report') throw new CodedError('not_found', `no report ${request.params.reference}`);
    const wo = await opts.workOrders.forAlert(alert.id);
    const state: z.infer<typeof ReportState>['state'] = wo?.state === 'closed' || alert.state === 'resolved' ? 'closed' : wo?.state === 'resolved' ? 'fixed' : wo && wo.state !== 'open' ? 'in_progress' : 'received';
    return { reference: request.params.reference, state, receivedAt: alert.firstFiredAt, category: String(alert.details?.category ?? 'other') };
  });
};
